"""``duban inspect`` (issue 16) through the command line on a real ledger, SQLite and
PostgreSQL: a round drawn, approved, one inspector recused, the page published and the draw
verified; then the ledger tampered with, which verify names, exit 1. The published page holds
what the README's lines need to redo the draw, and they give the same units."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner, Result

from duban.cli.app import app
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import InspectionCommitmentRow, InspectionDrawRow

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
SEED = "2026060112345"


def cli(url: str, home: Path, *args: str, language: str = "en") -> Result:
    env = {"DUBAN_DATABASE_URL": url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-06-01T10:00",
           "DUBAN_LANG": language, "COLUMNS": "100"}  # fmt: skip
    return runner.invoke(app, list(args), env=env)


def redo_units(seed: str, inspection: str, label: str, register: str, k: int) -> list[str]:
    """The README's procedure, unweighted: per stratum by name, units by SHA-256 key."""
    strata: dict[str, list[str]] = {}
    for line in register.splitlines()[1:]:
        unit, stratum, _weight = json.loads(line)
        strata.setdefault(stratum, []).append(unit)
    picks = []
    for stratum in sorted(strata):

        def key(unit: str) -> int:
            text = "\x1f".join([seed, inspection, label, unit])
            return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)

        picks += sorted(strata[stratum], key=key)[:k]
    return picks


def test_a_round_from_draw_to_verify(ledger_url: str, tmp_path: Path) -> None:
    assert cli(ledger_url, tmp_path, "init", CAMPAIGN).exit_code == 0
    drawn = cli(ledger_url, tmp_path, "inspect", "draw", CAMPAIGN, "quarterly", "--seed", SEED)
    assert drawn.exit_code == 0, drawn.output
    assert "Round 2026-Q2: 8 units drawn" in drawn.output
    again = cli(ledger_url, tmp_path, "inspect", "draw", CAMPAIGN, "quarterly", "--seed", "1")
    assert again.exit_code == 1
    assert again.output.startswith("error:")
    assert "one seed per commitment" in again.output
    approved = cli(ledger_url, tmp_path, "inspect", "approve", CAMPAIGN, "quarterly")
    assert approved.exit_code == 0, approved.output
    status = cli(ledger_url, tmp_path, "inspect", "status", CAMPAIGN, language="zh-CN")
    assert "已审定" in status.output
    assert SEED in status.output

    published = cli(ledger_url, tmp_path, "inspect", "publish", CAMPAIGN, "quarterly")
    assert published.exit_code == 0, published.output
    page = (tmp_path / "out" / "nlzf-2026" / "inspections"
            / "双随机抽查结果公示-quarterly-2026-Q2.html").read_text(encoding="utf-8")  # fmt: skip
    text = html.unescape(page)
    register = re.findall(r"<pre>(.*?)</pre>", text, flags=re.S)[1]
    assert register.startswith('["unit_id","stratum","weight"]')
    units = redo_units(SEED, "quarterly", "2026-Q2", register, 4)
    for unit in units:
        assert f"（{unit}）" in text
    assert SEED in text

    verified = cli(ledger_url, tmp_path, "inspect", "verify", CAMPAIGN, "quarterly")
    assert verified.exit_code == 0, verified.output
    assert "matches" in verified.output


def test_verify_names_a_tampered_register_and_seed(ledger_url: str, tmp_path: Path) -> None:
    assert cli(ledger_url, tmp_path, "init", CAMPAIGN).exit_code == 0
    assert cli(ledger_url, tmp_path, "inspect", "draw", CAMPAIGN, "quarterly",
               "--seed", SEED).exit_code == 0  # fmt: skip
    engine = make_engine(ledger_url)
    with session_scope(engine) as session:
        session.execute(update(InspectionDrawRow).values(seed="2026060112346"))
    seed_changed = cli(ledger_url, tmp_path, "inspect", "verify", CAMPAIGN, "quarterly",
                       language="zh-CN")  # fmt: skip
    assert seed_changed.exit_code == 1
    assert "核验不一致" in seed_changed.output
    assert "种子" in seed_changed.output
    with session_scope(engine) as session:
        session.execute(update(InspectionDrawRow).values(seed=SEED))
        row = session.query(InspectionCommitmentRow).one()
        row.inspector_register = row.inspector_register.replace('"B05"', '"B06"', 1)
    register_changed = cli(ledger_url, tmp_path, "inspect", "verify", CAMPAIGN, "quarterly")
    engine.dispose()
    assert register_changed.exit_code == 1
    assert "the inspector register" in register_changed.output


def test_a_recusal_and_its_reason_are_published(ledger_url: str, tmp_path: Path) -> None:
    assert cli(ledger_url, tmp_path, "init", CAMPAIGN).exit_code == 0
    assert cli(ledger_url, tmp_path, "inspect", "draw", CAMPAIGN, "quarterly",
               "--seed", SEED).exit_code == 0  # fmt: skip
    engine = make_engine(ledger_url)
    with session_scope(engine) as session:
        result = session.query(InspectionDrawRow).one().result
    engine.dispose()
    team = result["teams"][0]
    unit, inspector = team["unit"], team["inspectors"][0]
    recused = cli(ledger_url, tmp_path, "inspect", "recuse", CAMPAIGN, "quarterly", unit,
                  inspector, "--reason", "近亲属在该单位任职")  # fmt: skip
    assert recused.exit_code == 0, recused.output
    assert inspector not in recused.output.split("now", 1)[1]
    assert cli(ledger_url, tmp_path, "inspect", "publish", CAMPAIGN, "quarterly").exit_code == 0
    page = next((tmp_path / "out" / "nlzf-2026" / "inspections").glob("*.html"))
    assert "近亲属在该单位任职" in page.read_text(encoding="utf-8")
    assert cli(ledger_url, tmp_path, "inspect", "verify", CAMPAIGN, "quarterly").exit_code == 0
