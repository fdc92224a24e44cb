"""``duban rectify`` (issue 15, item 4) on a real ledger, SQLite and PostgreSQL: items recorded
through ``selfcheck.ledger``, then listed, shown and verified through the command line, in
Chinese and English; each refusal one error line and a hint, never a traceback; the item's
state in the ledger and its history after each command."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from duban.cli.app import app
from duban.clock import FixedClock
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow
from duban.selfcheck.items import Item, NewItem
from duban.selfcheck.ledger import apply_move, create_items, get_item, history
from duban.selfcheck.states import Action, Move

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 7, 1, 9, 0, tzinfo=ZONE)
CLAIMED = datetime(2026, 7, 10, 15, 30, tzinfo=ZONE)
NOW = "2026-07-15T10:20"  # local time in the campaign's zone
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Ledger:
    url: str
    engine: Engine
    home: str

    def env(self, language: str = "en", now: str = NOW) -> dict[str, str | None]:
        return {"DUBAN_DATABASE_URL": self.url, "DUBAN_HOME": self.home, "DUBAN_NOW": now,
                "DUBAN_LANG": language, "COLUMNS": "80"}  # fmt: skip

    def run(self, *args: str, language: str = "en", now: str = NOW) -> Result:
        return runner.invoke(app, ["rectify", *args], env=self.env(language, now))

    def item(self, code: str) -> Item:
        with session_scope(self.engine) as session:
            return get_item(session, CID, code)

    def kinds(self, code: str) -> list[str]:
        with session_scope(self.engine) as session:
            return [entry.kind for entry in history(session, CID, code)]

    def claim(self, code: str, at: datetime = CLAIMED) -> None:
        """The unit claims completion (as its progress workbook will)."""
        move = Move(Action.CLAIM, "B03", role="unit", evidence="制度已印发，见附件",
                    completed_on=at.date())  # fmt: skip
        with session_scope(self.engine) as session:
            apply_move(session, FixedClock(at), CID, code, move, zone=ZONE)

    def events(self) -> int:
        with session_scope(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


@pytest.fixture
def ledger(ledger_url: str, tmp_path: object) -> Iterator[Ledger]:
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(tmp_path), "DUBAN_NOW": "2026-07-01"}
    assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
    engine = make_engine(ledger_url)
    items = [
        NewItem("B03", "学习制度落实不到位，部分科室集中学习流于形式，学习记录不全",
                category="作风不实", cause="重业务轻学习", measure="建立周学习制度",
                owner="张三", deadline=date(2026, 7, 10)),
        NewItem("B03", "窗口服务效率不高", category="效率不高", measure="推行一次性告知",
                owner="李四", deadline=date(2026, 9, 30)),
        NewItem("T01", "值班纪律松弛", category="纪律松弛", owner="王五", long_term=True),
    ]  # fmt: skip
    with session_scope(engine) as session:
        create_items(session, FixedClock(RECORDED), CID, items, actor="B03")
    try:
        yield Ledger(ledger_url, engine, str(tmp_path))
    finally:
        engine.dispose()


def one_error(result: Result, *, chinese: bool) -> str:
    """The single ``error:`` line of a refused command (and its single hint); exit 1."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 2, result.output
    assert lines[0].startswith("error: ")
    assert lines[1].strip().startswith("→ ")
    assert bool(CJK.search(lines[0])) is chinese, result.output
    return lines[0].removeprefix("error: ") + "\n" + lines[1].strip()


def test_list_in_both_languages_fits_80_columns(ledger: Ledger) -> None:
    for language, words in (("zh-CN", ["整改台账：3 项，逾期 1 项", "问题描述", "未启动",
                                      "长期坚持", "是", "市委组织部"]),
                            ("en", ["rectification items: 3, overdue 1", "finding", "open",
                                    "long-term", "yes"])):  # fmt: skip
        result = ledger.run("list", CAMPAIGN, language=language)
        assert result.exit_code == 0, result.output
        for word in words:
            assert word in result.output, result.output
        assert max(cell_len(line.rstrip()) for line in result.output.splitlines()) <= 80
        late = next(line for line in result.output.splitlines() if "ZG-B03-001" in line)
        assert late.rstrip().endswith("是" if language == "zh-CN" else "yes"), late
        on_time = next(line for line in result.output.splitlines() if "ZG-B03-002" in line)
        assert not on_time.rstrip().endswith(("是", "yes")), on_time
    english = ledger.run("list", CAMPAIGN).output
    assert not CJK.search("".join(english.splitlines()[:2])), english  # headings in English


def test_list_narrows_by_unit_state_and_overdue_and_speaks_json(ledger: Ledger) -> None:
    def codes(*args: str) -> list[str]:
        result = ledger.run("list", CAMPAIGN, "--json", *args)
        assert result.exit_code == 0, result.output
        return [row["code"] for row in json.loads(result.output)]

    assert codes() == ["ZG-B03-001", "ZG-B03-002", "ZG-T01-001"]
    assert codes("--unit", "T01") == ["ZG-T01-001"]
    assert codes("--overdue") == ["ZG-B03-001"]
    ledger.claim("ZG-B03-002")
    assert codes("--state", "claimed") == ["ZG-B03-002"]
    assert codes("--state", "已申请销号", "--state", "in-progress") == ["ZG-B03-002"]
    assert codes("--state", "open", "--unit", "B03") == ["ZG-B03-001"]
    [row] = json.loads(ledger.run("list", CAMPAIGN, "--json", "--overdue").output)
    assert row | {"overdue": True} == row
    assert (row["unit_name"], row["deadline"], row["state"]) == ("市委组织部", "2026-07-10", "open")
    assert row["created_at"] == "2026-07-01T09:00+08:00"
    # a deadline is overdue from midnight after it, not on it
    assert codes("--overdue", "--as-of", "2026-07-10T23:59") == []


def test_close_return_extend_cancel_move_the_item_and_show_its_history(ledger: Ledger) -> None:
    ledger.claim("ZG-B03-001")
    closed = ledger.run("close", CAMPAIGN, "ZG-B03-001", "--reviewer", "督查一组",
                        "--note", "已现场核实", "--by", "市优化办 赵六")  # fmt: skip
    assert closed.exit_code == 0, closed.output
    assert "ZG-B03-001: closed by 市优化办 赵六 on 2026-07-15 10:20, now closed" in closed.output
    item = ledger.item("ZG-B03-001")
    assert (item.state, item.closed_by, item.reviewed_by) == ("closed", "市优化办 赵六", "督查一组")
    assert item.closed_at == datetime(2026, 7, 15, 10, 20, tzinfo=ZONE)

    ledger.claim("ZG-B03-002")
    returned = ledger.run("return", CAMPAIGN, "ZG-B03-002", "--reason", "缺少制度文件佐证",
                          language="zh-CN")  # fmt: skip
    assert returned.exit_code == 0, returned.output
    assert "ZG-B03-002：已退回（coordinator，2026-07-15 10:20），当前整改中" in returned.output
    assert ledger.item("ZG-B03-002").state == "in_progress"
    assert ledger.item("ZG-B03-002").last_reason == "缺少制度文件佐证"

    extended = ledger.run("extend", CAMPAIGN, "ZG-B03-002", "--to", "2026-10-31",
                          "--reason", "需财政预算安排")  # fmt: skip
    assert extended.exit_code == 0, extended.output
    assert "new deadline 2026-10-31" in extended.output
    item = ledger.item("ZG-B03-002")
    assert (item.deadline, item.first_deadline) == (date(2026, 10, 31), date(2026, 9, 30))

    cancelled = ledger.run("cancel", CAMPAIGN, "zg-t01-001", "--reason", "与督查问题重复")
    assert cancelled.exit_code == 0, cancelled.output
    assert "ZG-T01-001: cancelled" in cancelled.output
    assert ledger.item("ZG-T01-001").state == "cancelled"

    shown = ledger.run("show", CAMPAIGN, "ZG-B03-002", language="zh-CN", now="2026-07-16")
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert max(cell_len(line.rstrip()) for line in out.splitlines()) <= 80, out
    for words in ("整改时限 2026-10-31（原定 2026-09-30）", "状态     整改中", "B03 市委组织部",
                  "退回/作废理由 缺少制度文件佐证", "ZG-B03-002 的记录：4 条"):  # fmt: skip
        assert re.search(r"\s+".join(map(re.escape, words.split())), out), out
    history_rows = [
        line for line in out.splitlines() if re.match(r"^2026-\d\d-\d\d \d\d:\d\d", line)
    ]
    assert [re.split(r"\s{2,}|\s(?=\S)", row, maxsplit=3)[:3] for row in history_rows] == [
        ["2026-07-01", "09:00", "B03"],
        ["2026-07-10", "15:30", "B03"],
        ["2026-07-15", "10:20", "coordinator"],
        ["2026-07-15", "10:20", "coordinator"],
    ]
    for action, detail in (("登记", "整改时限 2026-09-30"), ("申请销号", "制度已印发"),
                           ("退回", "缺少制度文件佐证"),
                           ("延期", "2026-09-30 → 2026-10-31；需财政预算安排")):  # fmt: skip
        assert any(action in row and detail in row for row in history_rows), (action, out)

    english = ledger.run("show", CAMPAIGN, "ZG-B03-001").output
    for words in ("state closed", "closed by 市优化办 赵六", "second reviewer 督查一组",
                  "history of ZG-B03-001: 3 events", "second reviewer 督查一组"):  # fmt: skip
        assert re.search(r"\s+".join(map(re.escape, words.split())), english), english
    assert ledger.kinds("ZG-B03-001") == [
        "rectification.created",
        "rectification.claimed",
        "rectification.closed",
    ]


def test_a_move_asked_again_changes_nothing_and_says_so(ledger: Ledger) -> None:
    ledger.claim("ZG-B03-001")
    assert ledger.run("close", CAMPAIGN, "ZG-B03-001", now="2026-07-15T10:20").exit_code == 0
    before = ledger.events()
    for language, said in (
        ("en", "ZG-B03-001: already closed by coordinator on 2026-07-15 10:20; nothing changed"),
        ("zh-CN", "ZG-B03-001：早已销号（coordinator，2026-07-15 10:20），没有变动"),
    ):
        again = ledger.run("close", CAMPAIGN, "ZG-B03-001", language=language, now="2026-07-16")
        assert again.exit_code == 0, again.output
        assert said in again.output
    assert ledger.run("extend", CAMPAIGN, "ZG-B03-002", "--to", "2026-10-31",
                      "--reason", "x").exit_code == 0  # fmt: skip
    again = ledger.run("extend", CAMPAIGN, "ZG-B03-002", "--to", "2026-10-31", "--reason", "x")
    assert again.exit_code == 0, again.output
    assert "already extended" in again.output
    assert ledger.events() == before + 1  # the extension once, nothing for either repeat


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_refusal_is_one_error_line_and_a_hint(ledger: Ledger, language: str) -> None:
    chinese = language == "zh-CN"
    ledger.claim("ZG-B03-002")
    assert ledger.run("cancel", CAMPAIGN, "ZG-T01-001", "--reason", "重复").exit_code == 0
    cases = [
        (["close", CAMPAIGN, "ZG-B03-001"],
         "ZG-B03-001当前未启动，不能销号", "ZG-B03-001 is open: it cannot be closed"),
        (["return", CAMPAIGN, "ZG-B03-001", "--reason", "x"],
         "ZG-B03-001当前未启动，不能退回", "ZG-B03-001 is open: it cannot be returned"),
        (["close", CAMPAIGN, "ZG-T01-001"],
         "ZG-T01-001当前已作废，不能销号", "ZG-T01-001 is cancelled: it cannot be closed"),
        (["extend", CAMPAIGN, "ZG-T01-001", "--to", "2026-12-31", "--reason", "x"],
         "ZG-T01-001当前已作废，不能延期", "ZG-T01-001 is cancelled: it cannot be extended"),
        (["extend", CAMPAIGN, "ZG-B03-002", "--to", "2026-09-01", "--reason", "x"],
         "ZG-B03-002延期后的时限须晚于原时限 2026-09-30",
         "an extension of ZG-B03-002 must move its deadline later than 2026-09-30"),
        (["extend", CAMPAIGN, "ZG-B03-002", "--to", "2026-02-30", "--reason", "x"],
         "--to：'2026-02-30' 不是有效日期", "--to: '2026-02-30' is not a date"),
        (["return", CAMPAIGN, "ZG-B03-002", "--reason", "  "],
         "退回ZG-B03-002须写明理由", "a return of ZG-B03-002 needs a reason"),
        (["close", CAMPAIGN, "ZG-B03-002", "--reviewer", "coordinator"],
         "ZG-B03-002的复核人须为coordinator以外的另一人",
         "the second reviewer of ZG-B03-002 must be someone other than coordinator"),
        (["show", CAMPAIGN, "ZG-B03-099"],
         "活动 nlzf-2026 中没有整改事项“ZG-B03-099”",
         "no rectification item 'ZG-B03-099' in nlzf-2026"),
        (["close", CAMPAIGN, "B03-001"],
         "活动 nlzf-2026 中没有整改事项“B03-001”", "no rectification item 'B03-001' in nlzf-2026"),
        (["list", CAMPAIGN, "--unit", "ZZ"],
         "活动 nlzf-2026 的花名册中没有单位“ZZ”", "no unit 'ZZ' in the roster of nlzf-2026"),
        (["list", CAMPAIGN, "--state", "done"],
         "--state：“done”不是整改事项的状态", "--state: 'done' is not a state of an item"),
    ]  # fmt: skip
    before = ledger.events()
    for args, zh, en in cases:
        said = one_error(ledger.run(*args, language=language), chinese=chinese)
        assert said.splitlines()[0] == (zh if chinese else en), said
        if "ZG-B03-099" in said or "B03-001'" in said or "B03-001”" in said:
            assert "duban rectify list" in said, said
    assert ledger.events() == before
    assert [ledger.item(c).state for c in ("ZG-B03-001", "ZG-B03-002", "ZG-T01-001")] == [
        "open",
        "claimed",
        "cancelled",
    ]


def test_a_missing_reason_is_a_usage_error_in_the_campaigns_language(ledger: Ledger) -> None:
    result = ledger.run("cancel", CAMPAIGN, "ZG-B03-001", language="zh-CN")
    assert result.exit_code == 2, result.output
    assert "缺少选项 '--reason'" in result.output
    assert "duban rectify cancel --help" in result.output
    assert ledger.item("ZG-B03-001").state == "open"


def test_help_of_the_rectify_commands_in_chinese(ledger: Ledger) -> None:
    group = ledger.run("--help", language="zh-CN")
    assert "整改台账：列出、查看和核验整改事项" in group.output
    close = runner.invoke(app, ["rectify", "close", CAMPAIGN, "--help"],
                          env={**ledger.env(), "DUBAN_LANG": None})  # fmt: skip
    assert "核验属实后，对已申请销号的事项销号" in close.output
    assert "复核人" in close.output
