"""A mistyped id is named, with the ids that exist, in one error line and a hint; never an
empty table with exit 0, a wrong reason, or a traceback (issue 13, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from duban.cli.app import app

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
DELIVERABLES = "→ choose one of: plan, progress, self-check, rectification, summary"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"DUBAN_HOME": str(tmp_path), "DUBAN_SECRET": "s" * 20, "DUBAN_NOW": "2026-03-10",
           "COLUMNS": "200"}  # fmt: skip
    assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
    return env


@pytest.mark.parametrize(
    ("command", "error", "hint"),
    [
        (["status", "--deliverable", "nosuch"], "no deliverable 'nosuch'", DELIVERABLES),
        (["status", "--campaign", "nosuch"], "no campaign 'nosuch' in the ledger",
         "→ choose one of: nlzf-2026"),
        (["compile", CAMPAIGN, "--deliverable", "nosuch"], "no deliverable 'nosuch' in nlzf-2026",
         DELIVERABLES),
        (["chase", CAMPAIGN, "--deliverable", "nosuch", "--dry-run"],
         "no deliverable 'nosuch' in nlzf-2026", DELIVERABLES),
        (["mobilize", CAMPAIGN, "--deliverable", "nosuch", "--dry-run"],
         "no deliverable 'nosuch' in nlzf-2026", DELIVERABLES),
        (["mobilize", CAMPAIGN, "--deliverable", "plan", "--units", "T01,ZZZ", "--dry-run"],
         "no unit 'ZZZ' in the roster of nlzf-2026", "→ choose one of: T01, T02, T03"),
        (["extend", CAMPAIGN, "--deliverable", "plan", "--unit", "ZZ", "--to", "2026-03-12",
          "--reason", "x"], "no unit 'ZZ' in the roster of nlzf-2026", "… (30 in all)"),
        (["extend", CAMPAIGN, "--deliverable", "plan", "--unit", "T01", "--to", "2026-02-30",
          "--reason", "x"], "--to: '2026-02-30' is not a date", "→ write the new due day as"),
        (["exempt", CAMPAIGN, "--deliverable", "nosuch", "--unit", "T01", "--reason", "x"],
         "no deliverable 'nosuch' in nlzf-2026", DELIVERABLES),
    ],
    ids=["status-deliverable", "status-campaign", "compile", "chase", "mobilize",
         "mobilize-unit", "extend-unit", "extend-date", "exempt"],
)  # fmt: skip
def test_a_wrong_id_is_named_with_the_ids_that_exist(
    env: dict[str, str], command: list[str], error: str, hint: str
) -> None:
    result = runner.invoke(app, command, env=env)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, result.output
    assert lines[0] == f"error: {error}"
    assert lines[1].strip().startswith(hint) or hint in lines[1]
    assert "Traceback" not in result.output
