"""Bonuses and penalties (加分 / 扣分, issue 17 item 2) imported from the coordinator's
spreadsheet on a real ledger, SQLite and PostgreSQL: each row recorded once by its place in
the file (the same file again, or two imports at once, record nothing twice); a file with a
bad row records nothing and names every problem by row and column; the evaluation reads them
as the adjustments source."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from duban.cli.app import app
from duban.evaluate.commands import import_adjustments
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import AdjustmentRow, EvaluationScoreRow, EventRow
from duban.runtime import Runtime
from duban.settings import load_settings
from duban.testing.helpers import copy_campaign, edit_campaign

from .conftest import EXAMPLE

runner = CliRunner()


def with_adjustments(data: dict[str, Any]) -> None:
    """The example's scoring with a bonus-and-penalty source of weight 10, weights scaled."""
    data["scoring"]["sources"].append({"id": "adjustments", "title": "加分扣分", "weight": 10})
    data["scoring"]["weights"] = "scaled"


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    path = copy_campaign(EXAMPLE, tmp_path / "campaign")
    edit_campaign(path, with_adjustments)
    return path


@pytest.fixture
def env(ledger_url: str, tmp_path: Path, campaign: Path) -> dict[str, str]:
    values = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(tmp_path / "home"),
              "DUBAN_NOW": "2026-12-10T10:00", "DUBAN_LANG": "zh-CN", "COLUMNS": "200"}  # fmt: skip
    assert runner.invoke(app, ["init", str(campaign)], env=values).exit_code == 0
    return values


def workbook(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(("2026年度加减分汇总表",))
    ws.append(("单位", "分值", "事由", "依据"))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def recorded(url: str) -> list[tuple[str, Decimal, str, str]]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return [(r.unit_id, r.points, r.reason, r.ref.split(":", 1)[1]) for r in
                    session.scalars(select(AdjustmentRow).order_by(AdjustmentRow.id))]  # fmt: skip
    finally:
        engine.dispose()


GOOD = [("T01", 2, "获评省级先进集体", "苏委发〔2026〕12号"),
        ("市审计局", "-1.5", "重点工作被市委督查室通报", ""),
        ("B02", "＋1", "经验做法被省级简报刊发", "简报第8期")]  # fmt: skip


def test_rows_are_recorded_once(env: dict[str, str], tmp_path: Path, campaign: Path) -> None:
    path = workbook(tmp_path / "加减分.xlsx", GOOD)
    done = runner.invoke(app, ["evaluate", "adjustments", str(campaign), str(path)], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "加减分.xlsx：共 3 行，本次记录 3 行"
    assert recorded(env["DUBAN_DATABASE_URL"]) == [
        ("T01", Decimal(2), "获评省级先进集体", "Sheet:3"),
        ("B19", Decimal("-1.5"), "重点工作被市委督查室通报", "Sheet:4"),
        ("B02", Decimal(1), "经验做法被省级简报刊发", "Sheet:5"),
    ]
    again = runner.invoke(app, ["evaluate", "adjustments", str(campaign), str(path)], env=env)
    assert again.output.strip() == "加减分.xlsx：共 3 行，本次记录 0 行"
    assert len(recorded(env["DUBAN_DATABASE_URL"])) == 3


def test_two_imports_at_once_record_each_row_once(
    env: dict[str, str], tmp_path: Path, campaign: Path
) -> None:
    path = workbook(tmp_path / "加减分.xlsx", GOOD)

    def run(_: int) -> int:
        settings = load_settings(
            home=Path(env["DUBAN_HOME"]),
            database_url=env["DUBAN_DATABASE_URL"],
            now=env["DUBAN_NOW"],
        )
        with Runtime(settings, campaign) as rt:
            return import_adjustments(rt, path).new

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(run, range(2))) == [0, 3]
    assert len(recorded(env["DUBAN_DATABASE_URL"])) == 3


def test_a_bad_row_records_nothing_and_every_problem_is_named(
    env: dict[str, str], tmp_path: Path, campaign: Path
) -> None:
    path = workbook(tmp_path / "加减分.xlsx",
                    [*GOOD, ("某某局", "两分", None, None), ("T02", 0, "无", None)])  # fmt: skip
    done = runner.invoke(app, ["evaluate", "adjustments", str(campaign), str(path)], env=env)
    assert done.exit_code == 1
    assert "加减分.xlsx：4 处问题，未导入任何加减分" in done.output
    assert "第 6 行 A 列（单位）：花名册中没有唯一的单位“某某局”，请填写单位编号" in done.output
    assert "第 6 行 B 列（分值）：“两分”不是分值：加分写 +2，扣分写 -1.5" in done.output
    assert "第 6 行 C 列（事由）：不能为空：加分、扣分都须写明事由" in done.output
    assert "第 7 行 B 列（分值）：“0”不是分值" in done.output
    assert recorded(env["DUBAN_DATABASE_URL"]) == []


def test_the_evaluation_reads_them(env: dict[str, str], tmp_path: Path, campaign: Path) -> None:
    path = workbook(tmp_path / "加减分.xlsx", GOOD)
    runner.invoke(app, ["evaluate", "adjustments", str(campaign), str(path)], env=env)
    done = runner.invoke(app, ["evaluate", "compute", str(campaign)], env=env)
    assert done.exit_code == 0, done.output
    engine = make_engine(env["DUBAN_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            lines = session.scalar(select(EvaluationScoreRow.lines)
                                   .where(EvaluationScoreRow.unit_id == "B19"))  # fmt: skip
            kinds = session.scalars(select(EventRow.kind).where(
                EventRow.kind.like("evaluation.%")).order_by(EventRow.id)).all()  # fmt: skip
    finally:
        engine.dispose()
    assert lines is not None
    [penalty] = [line for line in lines if line["what"] == "penalty"]
    assert (penalty["value"], penalty["reason"]) == ("-1.50", "重点工作被市委督查室通报")
    assert kinds == ["evaluation.adjustments-imported", "evaluation.computed"]


def test_a_scoring_without_the_source_refuses(ledger_url: str, tmp_path: Path) -> None:
    values = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(tmp_path / "h"),
              "DUBAN_LANG": "en"}  # fmt: skip
    path = workbook(tmp_path / "a.xlsx", GOOD)
    done = runner.invoke(app, ["evaluate", "adjustments", str(EXAMPLE), str(path)], env=values)
    assert done.exit_code == 1
    assert done.output.startswith("error: the campaign's scoring has no adjustments source")


def test_frozen_outputs_are_the_same_bytes_when_written_again(
    env: dict[str, str], tmp_path: Path, campaign: Path
) -> None:
    """compute writes the preliminary ranking, accountability list and bulletin; freeze the
    final ones, timed by the freeze: freezing again a day later rewrites the same bytes."""
    path = workbook(tmp_path / "加减分.xlsx", GOOD)
    runner.invoke(app, ["evaluate", "adjustments", str(campaign), str(path)], env=env)
    done = runner.invoke(app, ["evaluate", "compute", str(campaign)], env=env)
    assert "考核排名表-2026-v1.xlsx" in done.output, done.output
    frozen = runner.invoke(app, ["evaluate", "freeze", str(campaign)], env=env)
    assert frozen.exit_code == 0, frozen.output
    folder = Path(env["DUBAN_HOME"]) / "out" / "nlzf-2026" / "evaluation"
    finals = sorted(folder.glob("*-final.*"))
    assert [p.name for p in finals] == [
        "意见建议汇总-2026-final.xlsx",
        "考核排名表-2026-final.xlsx",
        "考核通报-2026-final.docx",
        "考核通报-2026-final.html",
        "问责名单-2026-final.xlsx",
    ]
    before = {p.name: p.read_bytes() for p in finals}
    later = {**env, "DUBAN_NOW": "2026-12-11T15:00"}
    assert runner.invoke(app, ["evaluate", "freeze", str(campaign)], env=later).exit_code == 0
    assert {p.name: p.read_bytes() for p in sorted(folder.glob("*-final.*"))} == before
