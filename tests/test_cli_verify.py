"""``duban verify`` (issue 19): each campaign's event log checked against its hash chain in the
live ledger; the head printed to note elsewhere; an event edited behind duban's back named,
exit 1."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from typer.testing import CliRunner

from duban.cli.app import app
from duban.ledger.db import make_engine
from duban.ledger.schema import EventRow

from .conftest import EXAMPLE

runner = CliRunner()


def test_verify_prints_the_head_and_names_an_edited_event(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path), "DUBAN_LANG": "en", "DUBAN_NOW": "2026-03-10",
           "COLUMNS": "200"}  # fmt: skip
    assert runner.invoke(app, ["init", str(EXAMPLE)], env=env).exit_code == 0
    held = runner.invoke(app, ["verify"], env=env)
    assert held.exit_code == 0, held.output
    assert "nlzf-2026:" in held.output
    assert "the chain holds; head " in held.output
    head = held.output.split("head ")[1].split()[0]
    assert len(head) == 64
    assert runner.invoke(app, ["verify", "--campaign", "nlzf-2026"], env=env).output == held.output
    engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    try:
        with engine.begin() as connection:
            first = connection.scalar(select(EventRow.id).order_by(EventRow.id).limit(1))
            connection.exec_driver_sql("DROP TRIGGER events_no_update")
            connection.execute(text("UPDATE events SET actor = 'someone' WHERE id = :id"),
                               {"id": first})  # fmt: skip
    finally:
        engine.dispose()
    broken = runner.invoke(app, ["verify"], env=env)
    assert broken.exit_code == 1
    assert "changed outside duban" in broken.output
    assert f"event {first}: changed after it was recorded" in broken.output
