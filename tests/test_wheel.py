"""`pip install .` works as a wheel: the package carries its templates and migrations, runs
from outside the repository, and needs no test server library (issue 12).

The wheel is built without build isolation (hatchling comes with the dev extra: nothing is
downloaded), installed without dependencies into an empty folder put first on the path of
this interpreter, and run from a folder outside the project.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLE, ROOT

SECRET = "a wheel test secret, long enough"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [built] = out.glob("duban-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target


def test_the_wheel_holds_the_package_its_templates_and_migrations_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        message = email.message_from_bytes(archive.read(metadata))
    tops = {name.split("/", 1)[0] for name in names if not name.endswith(".dist-info/")}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"duban"}
    assert "duban/templates/zh-CN/notice.txt" in names
    assert "duban/templates/en/bulletin.html" in names
    assert any(n.startswith("duban/ledger/migrations/versions/0001") for n in names)
    requires = [r.split(";")[0] for r in message.get_all("Requires-Dist") or []]
    extras_only = [r for r in message.get_all("Requires-Dist") or [] if "extra ==" in r]
    plain = {r.split()[0].split(">")[0].split("=")[0].split("[")[0].lower()
             for r in requires if r not in [e.split(";")[0] for e in extras_only]}  # fmt: skip
    assert "aiosmtpd" not in plain  # a test server library is no requirement of the product


def run_installed(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "DUBAN_HOME": str(cwd / "home"),
        "DUBAN_SECRET": SECRET,
        "DUBAN_NOW": "2026-02-10T09:00",
    }
    env.pop("DUBAN_DATABASE_URL", None)
    code = "import sys; from duban.cli import main; sys.argv[0] = 'duban'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def test_the_installed_wheel_validates_and_previews_from_outside_the_project(
    installed: Path, tmp_path: Path
) -> None:
    campaign = str(EXAMPLE)
    where = run_installed(installed, tmp_path, "--help")
    assert where.returncode == 0, where.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import duban; print(duban.__file__)"],
        env={**os.environ, "PYTHONPATH": str(installed)}, cwd=tmp_path,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip().startswith(str(installed))  # the wheel, not the checkout
    validated = run_installed(installed, tmp_path, "validate", campaign)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    initialised = run_installed(installed, tmp_path, "init", campaign)
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    preview = run_installed(
        installed, tmp_path, "mobilize", campaign, "--deliverable", "plan", "--dry-run"
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr
    written = list((tmp_path / "home" / "outbox").rglob("*.eml"))
    assert len(written) == 30  # every unit's notice, rendered from the shipped templates
    assert "Traceback" not in preview.stderr
