"""The bulletin of a rectification progress period reports the items (issue 15 point 6): the
totals, a table per roster tag, the units with overdue items named with their count, in the
e-mailed HTML, in the .docx and in the summary workbook's 整改情况 sheet alike; a rate with
nothing under it shows "—". A ledger on SQLite (the figures come from ``list_items`` and the
pure ``selfcheck.rates``; the database adds nothing the rectification tests do not cover),
with items in every state, compiled once for the module.

Figures on 20 October 2026: found 7 (B03 市委组织部 3, T01 金城镇 3, T02 儒林镇 1; a cancelled
one of B04 is not counted), closed 2 (B03: one on time, one after its deadline), overdue 3
(T01 2, B03 1): closure rate 2/7 = 28.6%, on-time closure rate 1/2 = 50%.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from duban.adapters.render import environment
from duban.cli.app import app
from duban.clock import FixedClock
from duban.compile.bulletin import render_bulletin_html
from duban.compile.outputs import Compiled, compile_outputs
from duban.ledger.db import make_engine, session_scope
from duban.model.loader import load_campaign
from duban.selfcheck.items import NewItem
from duban.selfcheck.ledger import apply_move, create_items
from duban.selfcheck.states import Action, Move, Role

from .conftest import EXAMPLE

CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 9, 19, 10, 0, tzinfo=ZONE)
AS_OF = datetime(2026, 10, 20, 10, 0, tzinfo=ZONE)
SEPT_30 = date(2026, 9, 30)


@dataclass(frozen=True)
class World:
    progress: Compiled
    plan: Compiled


def _record(engine: Any) -> None:
    items = [
        NewItem("B03", "学习制度落实不到位", measure="建立周学习制度", deadline=SEPT_30),
        NewItem("B03", "窗口服务效率不高", measure="推行一次性告知", deadline=SEPT_30),
        NewItem("B03", "台账管理不规范", measure="完善台账", deadline=SEPT_30),
        NewItem("T01", "值班纪律松弛", measure="严格值班", deadline=SEPT_30),
        NewItem("T01", "办事指南更新不及时", measure="全面更新", deadline=date(2026, 9, 25)),
        NewItem("T01", "作风建设常态化", measure="长期坚持", long_term=True),
        NewItem("T02", "制度执行不严", measure="加强督查", deadline=date(2026, 12, 31)),
        NewItem("B04", "重复录入", measure="核实", deadline=SEPT_30),
    ]  # fmt: skip
    with session_scope(engine) as session:
        create_items(session, FixedClock(RECORDED), CID, items, actor="coordinator")

    def move(code: str, at: datetime, action: Action, **fields: Any) -> None:
        role: Role = "unit" if action in (Action.CLAIM, Action.PROGRESS) else "coordinator"
        with session_scope(engine) as session:
            apply_move(session, FixedClock(at), CID, code, Move(action, "x", role=role, **fields),
                       zone=ZONE)  # fmt: skip

    def at(month: int, day: int) -> datetime:
        return datetime(2026, month, day, 10, 0, tzinfo=ZONE)

    move("ZG-B03-001", at(9, 28), Action.CLAIM, evidence="制度文件", completed_on=date(2026, 9, 28))
    move("ZG-B03-001", at(9, 29), Action.CLOSE)  # closed on time
    move("ZG-B03-002", at(10, 12), Action.CLAIM, evidence="告知单", completed_on=date(2026, 10, 12))
    move("ZG-B03-002", at(10, 13), Action.CLOSE)  # closed after its deadline
    move("ZG-T01-002", at(9, 22), Action.PROGRESS, note="正在更新")  # in progress, overdue
    move("ZG-B04-001", at(9, 20), Action.CANCEL, reason="与其他问题重复")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    home = tmp_path_factory.mktemp("bullrates")
    url = f"sqlite:///{home / 'ledger.sqlite3'}"
    env = {"DUBAN_DATABASE_URL": url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-09-01"}
    result = CliRunner().invoke(app, ["init", str(EXAMPLE)], env=env)
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        _record(engine)
        bundle = load_campaign(EXAMPLE)

        def compiled(deliverable: str, period: str | None) -> Compiled:
            clock = FixedClock(AS_OF)
            return compile_outputs(engine, bundle, deliverable, period, as_of=AS_OF,
                                   out=home / "out", env=environment(), clock=clock)  # fmt: skip

        return World(compiled("rectification", "2026-09"), compiled("plan", None))
    finally:
        engine.dispose()


def flat(html: str) -> str:
    """The HTML's text, tags dropped, one space between cells."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


SUMMARY = (
    "各单位共查摆问题7个，已整改销号2个，尚未完成5个，其中逾期未完成3个。"
    "整改完成率28.6%，按期整改率50%。"
)
OVERDUE = "整改逾期单位：金城镇（2个）、市委组织部（1个）。"


def test_html_reports_the_totals_the_tags_and_the_overdue_units(world: World) -> None:
    html = world.progress.bulletin.html
    text = flat(html)
    assert "问题整改情况" in text
    assert SUMMARY in text
    assert OVERDUE in text
    # per tag: 镇区 has found 4, closed 0, overdue 2; 开发区 (Z01) has no item: dashes, not 0 %
    assert "镇区 4 0 2 0% —" in text
    assert "开发区 0 0 0 — —" in text
    assert "市级机关 3 2 1 66.7% 50%" in text
    assert "合计 7 2 3 28.6% 50%" in text
    assert OVERDUE in world.progress.bulletin.text
    assert SUMMARY in world.progress.bulletin.text


def test_docx_says_the_same(world: World) -> None:
    document = Document(str(world.progress.docx))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "问题整改情况" in body
    assert SUMMARY in body
    assert OVERDUE in body
    rows = [[c.text for c in row.cells] for row in document.tables[-1].rows]
    assert rows[0] == ["单位类别", "查摆问题", "已销号", "逾期未完成", "整改完成率", "按期整改率"]
    assert ["开发区", "0", "0", "0", "—", "—"] in rows
    assert rows[-1] == ["合计", "7", "2", "3", "28.6%", "50%"]


def test_workbook_sheet_has_the_per_unit_rates(world: World) -> None:
    book = load_workbook(world.progress.workbook)
    assert "整改情况" in book.sheetnames
    ws = book["整改情况"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["B03"][1:7] == ("市委组织部", "市级机关、党委部门", 3, 2, 1, 1)
    assert rows["B03"][7] == pytest.approx(2 / 3)
    assert rows["B03"][8] == pytest.approx(0.5)
    assert rows["T01"][3:] == (3, 0, 0, 2, 0, "—")
    assert rows["T09"][3:] == (0, 0, 0, 0, "—", "—")  # no item: neither failing nor perfect
    assert rows["B04"][3:] == (0, 0, 0, 0, "—", "—")  # its only item was cancelled
    assert rows["合计"][3:7] == (7, 2, 1, 3)
    assert rows["合计"][7] == pytest.approx(2 / 7)


def test_english_bulletin_words_the_same_figures(world: World) -> None:
    data = replace(world.progress.data, language="en")
    text = flat(render_bulletin_html(data, environment()).html)
    assert "found, 2 closed and 5 still open, 3 of them overdue" in text
    assert "closure rate is 28.6% and the on-time closure rate 50%" in text
    assert "Units with overdue items: 金城镇 (2), 市委组织部 (1)." in text
    assert "Total 7 2 3 28.6% 50%" in text


def test_a_period_of_another_deliverable_has_no_such_section(world: World) -> None:
    assert world.plan.data.rectification is None
    assert "整改" not in flat(world.plan.bulletin.html)
    body = "\n".join(p.text for p in Document(str(world.plan.docx)).paragraphs)
    assert "整改" not in body
    assert "整改情况" not in load_workbook(world.plan.workbook).sheetnames
