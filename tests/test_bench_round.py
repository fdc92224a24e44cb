"""bench/round runs a whole tiny round (20 units) and prints every stage beside its floor: the
plan's, then the key tasks' (the partners' pre-filled templates, their parts collected, each
lead one consolidated copy, a second chase sending nothing, the leads' reports collected), the
self-check phase's (problem lists, items, pre-filled progress reports, the item chase, the
整改台账), the inspection draw and the evaluation (computed, then published: every unit its
score sheet, once, a second run sending nothing).

So that the benchmark cannot rot: the script exits 1 on a failed stage or a wrong count (the
sink received other than the ledger sent, a valid reply not recorded, items or moves other than
the replies make, a template or a lead's copy holding other rows than its unit's, a lead sent
its copy or a unit its score sheet other than once), which this test turns into a failure. The
times and ratios are the benchmark's business, never asserted here.

``make test`` runs the whole tiny round on SQLite, the plan phase's round on PostgreSQL and a
round stopped after collect (the longer ones ran only in ``make stress`` while the suite ran in
one process and neared 30 minutes).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import POSTGRES_ADMIN_URL, ROOT

PLAN = ("init", "mobilize", "collect", "chase", "collect (late)", "compile", "bulletin")
KEY_TASKS = ("mobilize parts", "collect parts", "chase lead copies", "collect leads")
SELF_CHECK = ("mobilize lists", "collect lists", "mobilize progress", "collect progress",
              "chase items", "rectify ledger", "inspect draw", "evaluate compute",
              "evaluate publish")  # fmt: skip


def run_round(*extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "round"), "--units", "20", *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table_of(output: str) -> dict[str, list[str]]:
    """The final table's rows, by stage: items, seconds, items/s, floor/s, ratio, peak MB."""
    table = output.split("\n=== a round at 20 units", 1)[1].splitlines()[2:]
    rows: dict[str, list[str]] = {}
    for line in table:
        for stage in (*PLAN, *KEY_TASKS, *SELF_CHECK):
            if line.startswith(f"{stage} ") and line[len(stage) :].split()[0].isdigit():
                rows[stage] = line[len(stage) :].split()
    return rows


def check_output(output: str, ledger: str, stages: tuple[str, ...]) -> None:
    assert f"ledger on {ledger}" in output
    rows = table_of(output)
    assert list(rows) == list(stages), output
    for stage, fields in rows.items():
        assert len(fields) == 6, (stage, fields)
        has_floor = stage != "init"
        assert (fields[3] != "—") == has_floor, (stage, fields)
    assert ("self-check phase" in output) == (stages != PLAN)
    assert ("key tasks phase" in output) == (stages != PLAN)
    assert ("run again at 09:30: nothing sent" in output) == (stages != PLAN)
    assert ("run again at 10:00: nothing sent" in output) == (stages != PLAN)
    assert "whole round" in output
    assert "pandas.read_excel loop" in output
    assert "targets (issue 20):" in output
    assert "each process < 500 MB" in output


def test_a_tiny_round_stops_after_the_stage_named() -> None:
    """``--stop-after collect``, for a quick look at one stage: the stages up to it, no more.
    (The plan's round alone, ``--skip-selfcheck``, runs on PostgreSQL below; on SQLite the
    whole round covers its stages.)"""
    output = run_round("--stop-after", "collect")
    assert "ledger on SQLite" in output
    assert list(table_of(output)) == ["init", "mobilize", "collect"], output
    assert "pandas.read_excel loop" in output


def test_a_tiny_whole_round_on_sqlite() -> None:
    check_output(run_round(), "SQLite", (*PLAN, *KEY_TASKS, *SELF_CHECK))


@pytest.mark.postgres
def test_a_tiny_round_on_postgresql() -> None:
    output = run_round("--database", POSTGRES_ADMIN_URL, "--skip-selfcheck")
    check_output(output, "PostgreSQL", PLAN)
