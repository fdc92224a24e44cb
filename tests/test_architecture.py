"""The shape of the code: the domain never imports Prefect, and reads no wall clock."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import duban

from .conftest import ROOT

PACKAGE = Path(duban.__file__).parent
MODULES = sorted(
    "duban." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py")
    if "migrations" not in p.parts and p.name not in ("__init__.py", "__main__.py")
)


def test_importing_every_domain_module_does_not_import_prefect() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_wall_clock_outside_the_clock_module(path: Path) -> None:
    if path.name == "clock.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    wall_clock = {"datetime.now", "datetime.utcnow", "date.today", "time.time"}
    assert wall_clock.isdisjoint(calls), f"{path.name} reads the wall clock"


def test_no_environment_reads_outside_settings() -> None:
    offenders = [
        p.name
        for p in PACKAGE.rglob("*.py")
        if p.name not in ("settings.py",) and "os.environ" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def lint_imports(*, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """import-linter over the contracts in pyproject.toml (the layers of src/duban)."""
    env = {**os.environ}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--no-cache"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_the_layers_hold() -> None:
    """No module under src/duban imports prefect, flows, tasks or demo; the model imports no use
    case and no adapter; adapters import no use case; the product needs no test server."""
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") == 4


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("model/wrong.py", "import prefect\n", "never imports Prefect"),
        ("model/wrong.py", "from duban.implement import chase\n", "model imports no use case"),
        ("adapters/wrong.py", "import duban.mobilize.send\n", "Adapters import no use case"),
        ("implement/wrong.py", "import flows.collect\n", "never imports Prefect"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "duban"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / module).write_text(line, encoding="utf-8")
    result = lint_imports(pythonpath=tmp_path)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert len(broken) == 1
    assert contract in broken[0]


@pytest.mark.parametrize("folder", ["flows", "tasks", "demo", "bench"])
def test_no_module_beside_an_entrypoint_hides_the_standard_librarys(folder: str) -> None:
    """Prefect puts a flow entrypoint's folder on sys.path: a flows/inspect.py once hid the
    standard library's ``inspect`` from the intake's reader processes a worker started."""
    names = {p.stem for p in (ROOT / folder).iterdir() if p.suffix in ("", ".py")}
    assert names.isdisjoint(sys.stdlib_module_names), names & sys.stdlib_module_names
