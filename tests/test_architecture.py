"""The shape of the code: the domain never imports Prefect, and reads no wall clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import duban

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
