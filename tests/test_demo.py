"""`make demo` runs the production flows on the example: here it runs twice in a temp folder."""

from __future__ import annotations

import mailbox
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console

from demo.run import run_demo

from .conftest import EXAMPLE


def test_the_demo_runs_twice_and_delivers_every_notice(
    prefect_harness: None, tmp_path: Path
) -> None:
    home = tmp_path / "demo"
    for _ in range(2):
        console = Console(record=True, width=140)
        run_demo(EXAMPLE, home, console)
        text = console.export_text()
        assert "mobilize plan" in text
        assert "every reply received (Maildir)" in text
        sent = [m["X-Duban-Key"] for m in mailbox.Maildir(home / "mail" / "sent")]
        notices = [k for k in sent if k.startswith("notice:")]
        assert len(notices) == 30 + 5  # plan notices to all, Q1 progress to the five leads
        assert len(sent) > len(notices)  # answers to the units that replied
        with sqlite3.connect(home / "duban.sqlite3") as db:
            outcomes = dict(db.execute("SELECT outcome, count(*) FROM intake_files GROUP BY 1"))
        assert outcomes["held"] == 1  # the unit that sent another unit's template
        assert outcomes["quarantined"] == 1  # the hostile file
        assert outcomes["rejected"] == 1  # the wrong value, corrected the next day
        assert outcomes["accepted"] == 27
        [summary] = (home / "out").rglob("*汇总表.xlsx")
        units = {
            row[1]: row for row in load_workbook(summary)["报送情况"].iter_rows(values_only=True)
        }
        for late in ("薛埠镇", "市交通运输局", "市审计局"):  # they replied after 5 March
            assert "逾期" in str(units[late])
        assert "未报送" in str(units["市农业农村局"])  # silent
        [bulletin] = (home / "out").rglob("*通报.html")
        assert "市审计局" in bulletin.read_text(encoding="utf-8")  # B19, late


def test_the_demo_refuses_to_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run_demo(EXAMPLE, tmp_path, Console(record=True))
    assert (tmp_path / "precious.txt").exists()
