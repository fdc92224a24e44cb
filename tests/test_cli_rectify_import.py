"""``duban rectify import`` and ``duban rectify ledger``, and the closure rates of ``duban
status`` (issue 15, points 1, 4 and 6), on a real ledger (SQLite and PostgreSQL where the
ledger decides: recording, deduplication, the rates' query): a coordinator's spreadsheet of
problems handed down becomes items, or is refused whole with every problem listed; imported
twice it records nothing; the 整改台账 workbook is written and read back with openpyxl."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from rich.cells import cell_len
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from duban.cli.app import app
from duban.clock import FixedClock
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow, RectificationRow
from duban.selfcheck.importing import ImportFileError, plan_import
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import apply_move, list_items
from duban.selfcheck.states import Action, Move

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
NOW = "2026-07-15T10:20"
HEADER = ["序号", "责任单位", "问题类别", "问题描述", "原因剖析", "整改措施", "责任人", "整改时限",
          "长期坚持"]  # fmt: skip
ROWS: list[list[Any]] = [
    [1, "B03", "作风不实", "会议室长明灯，节能意识不强", "管理不严", "建立巡查制度", "张三",
     date(2026, 7, 10), None],
    [2, "金城镇", "纪律松弛", "值班人员脱岗", None, "加强值班抽查", "李四", "2026/9/30", None],
    [3, "t01", "效率不高", "审批超时", None, "压缩办理时限", "王五", "长期坚持", None],
    [4, "B10", "服务不优", "窗口一次性告知不到位", None, "推行清单告知", "赵六", None, "是"],
]  # fmt: skip


def workbook(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    """The coordinator's file: a title row, the header, one problem a row."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "交办问题"
    sheet.append(["第一督查组交办问题清单"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@dataclass
class Ledger:
    url: str
    engine: Engine
    home: Path

    def run(self, *args: str, language: str = "en", now: str = NOW) -> Result:
        env = {"DUBAN_DATABASE_URL": self.url, "DUBAN_HOME": str(self.home), "DUBAN_NOW": now,
               "DUBAN_LANG": language, "COLUMNS": "80"}  # fmt: skip
        return runner.invoke(app, list(args), env=env)

    def items(self) -> list[Item]:
        with session_scope(self.engine) as session:
            return list_items(session, CID)

    def count(self, table: type[EventRow] | type[RectificationRow]) -> int:
        with session_scope(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    def events(self, kind: str) -> list[tuple[str | None, str, dict[str, Any]]]:
        """Each event of ``kind``: its subject, actor and payload, in order."""
        query = select(EventRow.subject, EventRow.actor, EventRow.payload)
        with session_scope(self.engine) as session:
            rows = session.execute(query.where(EventRow.kind == kind).order_by(EventRow.id))
            return [(subject, actor, dict(payload)) for subject, actor, payload in rows]


@pytest.fixture
def ledger(ledger_url: str, tmp_path: Path) -> Iterator[Ledger]:
    home = tmp_path / "home"
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-07-01"}
    assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
    engine = make_engine(ledger_url)
    try:
        yield Ledger(ledger_url, engine, home)
    finally:
        engine.dispose()


def test_import_records_each_row_as_an_item_and_keeps_the_file(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "督查交办问题.xlsx", ROWS)
    result = ledger.run("rectify", "import", CAMPAIGN, str(path), "--by", "市优化办 钱七")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "督查交办问题.xlsx (4 rows): 4 items recorded (ZG-B03-001, ZG-T01-001, ZG-T01-002, " \
           "ZG-B10-001)" in said, said  # fmt: skip
    items = {i.code: i for i in ledger.items()}
    assert sorted(items) == ["ZG-B03-001", "ZG-B10-001", "ZG-T01-001", "ZG-T01-002"]
    b03 = items["ZG-B03-001"]
    assert (b03.source, b03.category, b03.finding, b03.cause, b03.measure, b03.owner) == (
        "assigned", "作风不实", "会议室长明灯，节能意识不强", "管理不严", "建立巡查制度", "张三",
    )  # fmt: skip
    assert (b03.deadline, b03.long_term, b03.state, b03.created_by) == (
        date(2026, 7, 10), False, "open", "市优化办 钱七",
    )  # fmt: skip
    assert b03.created_at == datetime(2026, 7, 15, 10, 20, tzinfo=ZONE)
    assert (items["ZG-T01-001"].unit_id, items["ZG-T01-001"].deadline) == ("T01", date(2026, 9, 30))
    assert (items["ZG-T01-002"].deadline, items["ZG-T01-002"].long_term) == (None, True)
    assert (items["ZG-B10-001"].deadline, items["ZG-B10-001"].long_term) == (None, True)

    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    [(subject, actor, payload)] = ledger.events("rectification.imported")
    assert (subject, actor) == (f"import:{sha}", "市优化办 钱七")
    assert payload["items"] == ["ZG-B03-001", "ZG-T01-001", "ZG-T01-002", "ZG-B10-001"]
    assert (payload["file"], payload["sha256"]) == ("督查交办问题.xlsx", sha)
    assert (ledger.home / "raw" / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert b03.origin_key == f"import:{sha[:16]}:row:3"  # the spreadsheet's own row number

    english = workbook(tmp_path / "inspection.xlsx",
                       [["T02", "Desk left unattended", "2026-10-31"]],
                       header=["Responsible unit", "Finding", "Deadline"])  # fmt: skip
    result = ledger.run("rectify", "import", CAMPAIGN, str(english), "--source", "inspection",
                        language="zh-CN")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "inspection.xlsx（1 行）：新登记 1 项（ZG-T02-001）" in result.output
    t02 = next(i for i in ledger.items() if i.unit_id == "T02")
    assert (t02.source, t02.deadline) == ("inspection", date(2026, 10, 31))


def test_import_with_bad_rows_lists_every_problem_and_records_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    rows = [
        *ROWS[:2],
        [3, "Z99", "作风不实", "不存在的单位", None, None, None, date(2026, 9, 1), None],
        [4, "B03", "作风不实", "  ", None, None, None, date(2026, 9, 1), None],
        [5, "B04", "作风不实", "时限写错", None, None, None, "下个月", None],
    ]
    path = workbook(tmp_path / "交办.xlsx", rows)
    events = ledger.count(EventRow)
    for language, lines in (
        ("en", ["error: 交办.xlsx: 3 problems; nothing was imported",
                "- row 5, column B (责任单位): no unit 'Z99' in the roster: write a unit's id or "
                "name",
                "- row 6, column D (问题描述): empty: write what was found",
                "- row 7, column H (整改时限): '下个月' is not a date: write one such as "
                "2026-09-30, or 长期坚持",
                "→ correct the file and run `duban rectify import` again"]),
        ("zh-CN", ["error: 交办.xlsx：3 处问题，未导入任何事项",
                   "- 第 5 行 B 列（责任单位）：花名册中没有单位“Z99”，请填写单位编号或单位名称",
                   "- 第 6 行 D 列（问题描述）：不能为空，请写明发现的问题",
                   "- 第 7 行 H 列（整改时限）：“下个月”不是日期，"
                   "请填写如 2026-09-30 的日期或“长期坚持”",
                   "→ 改正后重新运行 `duban rectify import`"]),
    ):  # fmt: skip
        result = ledger.run("rectify", "import", CAMPAIGN, str(path), language=language)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        said = [line.strip() for line in result.output.splitlines() if line.strip()]
        assert said == lines, result.output
    assert ledger.count(RectificationRow) == 0
    assert ledger.count(EventRow) == events
    sha = hashlib.sha256(path.read_bytes()).hexdigest()  # the raw store has only init's files
    assert not (ledger.home / "raw" / sha[:2] / sha[2:4] / sha).exists()


def test_the_same_file_imported_twice_records_nothing_the_second_time(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "交办.xlsx", ROWS)
    assert ledger.run("rectify", "import", CAMPAIGN, str(path)).exit_code == 0
    items, events = ledger.count(RectificationRow), ledger.count(EventRow)
    again = ledger.run("rectify", "import", CAMPAIGN, str(path))
    assert again.exit_code == 0, again.output
    assert "nothing new recorded; 4 rows were already items of their unit" in again.output
    assert (ledger.count(RectificationRow), ledger.count(EventRow)) == (items, events)
    # the same problems typed again with other spaces, one new row, and a row given twice
    edited = [[*row] for row in ROWS]
    edited[0][3] = " 会议室长明灯， 节能意识不强 "
    edited.append([5, "B03", "作风不实", "公车私用", None, None, None, date(2026, 8, 31), None])
    edited.append([6, "市委组织部", "作风不实", "公车 私用", None, None, None, "2026-08-31", None])
    result = ledger.run("rectify", "import", CAMPAIGN, str(workbook(tmp_path / "二.xlsx", edited)),
                        language="zh-CN")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ("二.xlsx（6 行）：新登记 1 项（ZG-B03-002）；4 行已是该单位的整改事项；"
            "1 行与文件中前面的行重复") in result.output  # fmt: skip
    assert ledger.count(RectificationRow) == items + 1


def close(ledger: Ledger, code: str, claimed: datetime) -> None:
    """The unit claims completion (as its progress workbook will), the coordinator closes."""
    move = Move(Action.CLAIM, "B03", role="unit", evidence="已整改", completed_on=claimed.date())
    with session_scope(ledger.engine) as session:
        apply_move(session, FixedClock(claimed), CID, code, move, zone=ZONE)
    closed = ledger.run("rectify", "close", CAMPAIGN, code, now="2026-07-08T16:00")
    assert closed.exit_code == 0, closed.output


@pytest.fixture
def imported(ledger: Ledger, tmp_path: Path) -> Ledger:
    """The four rows imported; ZG-B03-001 closed on 8 July (before its deadline, 10 July)."""
    path = workbook(tmp_path / "交办.xlsx", ROWS)
    assert ledger.run("rectify", "import", CAMPAIGN, str(path), now="2026-07-01").exit_code == 0
    close(ledger, "ZG-B03-001", datetime(2026, 7, 7, 9, 0, tzinfo=ZONE))
    return ledger


def naive(year: int, month: int, day: int) -> datetime:
    """A day as openpyxl reads a date cell back: a naive midnight."""
    return datetime.combine(date(year, month, day), datetime.min.time())


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_the_ledger_workbook_is_written_and_reads_back(imported: Ledger, tmp_path: Path) -> None:
    result = imported.run("rectify", "ledger", CAMPAIGN, language="zh-CN")
    assert result.exit_code == 0, result.output
    path = imported.home / "out" / CID / "rectification" / "整改台账（2026-07-15）.xlsx"
    text = "".join(result.output.split())
    assert str(path).replace(" ", "") in text, result.output
    assert "截至2026-07-15共4项：问题4项（已作废0项不计），已销号1项，未销号3项，逾期0项" in text
    book = openpyxl.load_workbook(path)
    tags = ["党委部门", "市级机关", "开发区", "窗口单位", "镇区"]  # the roster's, in order
    assert book.sheetnames == ["汇总", *tags, "逾期未完成"]
    rows = {str(r[1]): r for r in book["市级机关"].iter_rows(min_row=2, values_only=True)}
    assert sorted(rows) == ["ZG-B03-001", "ZG-B10-001"]
    closed = rows["ZG-B03-001"]
    assert (closed[5], closed[7], closed[9], closed[10]) == (
        "市委组织部", naive(2026, 7, 10), "已销号", naive(2026, 7, 8),
    )  # fmt: skip
    assert (rows["ZG-B10-001"][7], rows["ZG-B10-001"][10]) == ("长期坚持", None)
    summary = {r[0]: r for r in book["汇总"].iter_rows(min_row=5, values_only=True)}
    assert summary["合计"][1:] == (4, 1, 3, 0, 0, 0.25, 1)
    assert book["逾期未完成"].max_row == 1  # nothing overdue on 15 July

    later = imported.run("rectify", "ledger", CAMPAIGN, "--out", str(tmp_path), now="2026-10-09")
    assert later.exit_code == 0, later.output
    assert "1 overdue" in later.output
    book = openpyxl.load_workbook(tmp_path / "整改台账（2026-10-09）.xlsx")
    assert [r[1] for r in book["逾期未完成"].iter_rows(min_row=2, values_only=True)] == [
        "ZG-T01-001"
    ]
    written = imported.events("rectification.ledger-written")
    assert [payload["overdue"] for _, _, payload in written] == [0, 1]


def test_status_shows_the_closure_rates_per_tag_and_unit(ledger: Ledger, tmp_path: Path) -> None:
    before = json.loads(ledger.run("status", "--json").output)["campaigns"][0]
    assert "rectification" not in before  # no item yet: no rates
    path = workbook(tmp_path / "交办.xlsx", ROWS)
    assert ledger.run("rectify", "import", CAMPAIGN, str(path), now="2026-07-01").exit_code == 0
    close(ledger, "ZG-B03-001", datetime(2026, 7, 7, 9, 0, tzinfo=ZONE))

    result = ledger.run("status", "--json", now="2026-10-09")
    assert result.exit_code == 0, result.output
    rates = json.loads(result.output)["campaigns"][0]["rectification"]
    assert rates["day"] == "2026-10-09"
    assert rates["total"] == {"found": 4, "closed": 1, "open": 3, "overdue": 1, "cancelled": 0,
                              "closure_rate": 0.25, "on_time_rate": 1.0}  # fmt: skip
    by_unit = {row["unit"]: row for row in rates["by_unit"]}
    assert sorted(by_unit) == ["B03", "B10", "T01"]  # units with items only
    assert by_unit["B03"] | {"name": "市委组织部", "closure_rate": 1.0} == by_unit["B03"]
    assert (by_unit["T01"]["found"], by_unit["T01"]["overdue"]) == (2, 1)
    by_tag = {row["tag"]: row for row in rates["by_tag"]}
    assert (by_tag["镇区"]["found"], by_tag["镇区"]["closure_rate"]) == (2, 0.0)
    assert by_tag["开发区"]["closure_rate"] is None  # nothing under it: neither 0 nor 100 %

    for language, heading, rows in (
        ("en", "nlzf-2026: rectification items as of 2026-10-09",
         [r"T01 金城镇\s+2\s+0\s+1\s+0%\s+—", r"B03 市委组织部\s+1\s+1\s+0\s+100%\s+100%",
          r"total\s+4\s+1\s+1\s+25%\s+100%"]),
        ("zh-CN", "nlzf-2026：整改事项（截至 2026-10-09）",
         [r"整改完成率\s+按期整改率", r"镇区\s+2\s+0\s+1\s+0%\s+—",
          r"合计\s+4\s+1\s+1\s+25%\s+100%"]),
    ):  # fmt: skip
        table = ledger.run("status", language=language, now="2026-10-09")
        assert table.exit_code == 0, table.output
        assert heading in table.output, table.output
        for row in rows:
            assert re.search(row, table.output), (row, table.output)
        assert max(cell_len(line.rstrip()) for line in table.output.splitlines()) <= 80


# --------------------------------------------------------------------------- pure parsing


def plan(rows: list[list[Any]], header: list[str] = HEADER) -> Any:
    from duban.model.loader import load_campaign

    units = load_campaign(EXAMPLE).units
    grid = {"Sheet": [tuple(header), *(tuple(r) for r in rows)]}
    return plan_import(grid, units, source="assigned", origin="import:x", name="f.xlsx")


def test_a_file_without_the_needed_columns_says_which() -> None:
    with pytest.raises(ImportFileError) as caught:
        plan([["B03", "问题"]], header=["责任单位", "问题描述"])
    assert [p.said("en") for p in caught.value.problems] == [
        "row 1: the header has no column 整改时限 (Deadline)"
    ]
    with pytest.raises(ImportFileError) as caught:
        plan([["B03"]], header=["单位"])
    assert "no header row naming 责任单位, 问题描述, 整改时限" in caught.value.problems[0].message


def test_rows_are_read_as_offices_write_them() -> None:
    done = plan(
        [["b03", "问题一", "2026年9月30日", "否", "市财政局、金城镇"],
         [None, None, None, None, None],
         ["市委组织部", "问题 一", "2026-09-30", None, None],
         ["T01", "问题二", None, "长期坚持", None]],
        header=["Responsible unit", "finding", "DEADLINE", "长期坚持", "配合单位"],
    )  # fmt: skip
    first, second = (row.item for row in done.rows)
    assert (first.unit_id, first.deadline, first.long_term, first.partners) == (
        "B03", date(2026, 9, 30), False, ("市财政局", "金城镇"),
    )  # fmt: skip
    assert (second.unit_id, second.deadline, second.long_term) == ("T01", None, True)
    assert [row.row for row in done.rows] == [2, 5]
    assert done.repeated == (4,)  # the same finding of the same unit, spaces aside
