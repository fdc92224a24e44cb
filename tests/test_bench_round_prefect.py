"""bench/round_prefect.py runs the plan phase's stages directly and as flow runs of duban's
deployments on a real Prefect server with two workers, and prints Prefect's share of each.

So that the benchmark cannot rot: it exits 1 when a stage fails, a flow run does not complete,
or the two environments' ledgers or sinks count differently, which the tiny run turns into a
failure; the times and shares are the benchmark's business, never asserted here. The tiny run
takes about four minutes on this machine (a server, its deployments, two workers, twelve
stages and their setup), so only ``make stress`` runs it; the copy of prefect.yaml it deploys
is checked in ``make test``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT
from .rounds import only_in_stress

SCRIPT = ROOT / "bench" / "round_prefect.py"
STAGES = ("mobilize", "collect", "chase", "collect (late)", "compile", "bulletin")


def test_the_deployments_are_registered_without_schedules_from_this_checkout(
    tmp_path: Path,
) -> None:
    """The scheduler is off too, but a deployment's cron schedule must not start runs of its
    own against the benchmark's ledger (or a coordinator's DUBAN_HOME); and no pull step may
    depend on DUBAN_PROJECT_DIR."""
    copy = tmp_path / "prefect.yaml"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--copy-prefect-file", str(copy)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    project = yaml.safe_load(copy.read_text(encoding="utf-8"))
    original = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    names = [d["name"] for d in project["deployments"]]
    assert names == ["mobilize", "collect", "chase", "compile"]
    assert all("schedules" not in d for d in project["deployments"])
    assert project["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
    ]
    kept = {d["name"]: d for d in original["deployments"]}
    for deployment in project["deployments"]:
        expected = {k: v for k, v in kept[deployment["name"]].items() if k != "schedules"}
        assert deployment == expected


@pytest.mark.stress
@only_in_stress
def test_a_tiny_plan_phase_through_prefect() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--units", "20", "--poll", "2"],
        capture_output=True, text=True, check=False, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.split("\n=== the plan phase at 20 units", 1)[1].splitlines()[2:]
    width = len("collect (late)") + 1  # the stage column, padded
    rows = {line[:width].rstrip(): line[width:].split() for line in table}
    rows = {stage: fields for stage, fields in rows.items() if stage in (*STAGES, "whole")}
    assert list(rows) == [*STAGES, "whole"], done.stdout
    assert all(len(fields) == 7 for stage, fields in rows.items() if stage != "whole"), rows
    assert "Prefect's share of the round:" in done.stdout
    assert "peak memory: server" in done.stdout
