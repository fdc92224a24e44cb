"""The inspection round's outputs (issue 16, item 6) on a real ledger, SQLite and PostgreSQL:
the summary workbook (督查汇总表) and the bulletin (督查通报) of a round whose sheets came back
through the intake, one late, one never; the bulletin mailed over SMTP to the distribution
list once, however often the command runs; and the scores as an evaluation source.

Figures worked by hand from the sheets below (checklist maxima 20, 30, 30, 20):
金城镇 18 + 27.5 + 30 + 16 = 91.5 (deducted 2, 2.5, 4: "台账不完整"), two findings;
市政府办公室 20 + 25 + 28 + 20 = 93 (deducted 5, 2), one finding, returned after the window;
直溪镇's sheet never came back. Ranked: 市政府办公室 1, 金城镇 2; mean 92.25 → 92.3.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from duban.cli.app import app
from duban.inspect import commands
from duban.inspect.report import Header, InspectionReport, ScoreLine, UnitResult, build_report
from duban.model.inspections import Checklist
from duban.testing.helpers import copy_campaign, edit_campaign
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE
from .test_collect import imap  # noqa: F401  (the dovecot fixture)
from .test_inspection_results import (
    GOOD,
    SECRET,
    ZONE,
    World,
    _parsed,
    _world,
    add_round,
    fill,
    mail,
    sheets_sent,
    smtp,  # noqa: F401  (fixture)
)

runner = CliRunner()


@pytest.fixture
def office(
    ledger_url: str,
    tmp_path: Path,
    smtp: LocalSmtpServer,  # noqa: F811
    imap: LocalImapServer,  # noqa: F811
) -> Iterator[World]:
    yield from _world(ledger_url, tmp_path, smtp, imap, EXAMPLE)


@pytest.fixture
def english_office(
    ledger_url: str,
    tmp_path: Path,
    smtp: LocalSmtpServer,  # noqa: F811
    imap: LocalImapServer,  # noqa: F811
) -> Iterator[World]:
    path = copy_campaign(EXAMPLE, tmp_path / "english")
    edit_campaign(path, lambda data: data.update(language="en"))
    yield from _world(ledger_url, tmp_path, smtp, imap, path)


REPORT_AT = "2026-07-23T09:00"
LATE = datetime(2026, 7, 21, 10, 0, tzinfo=ZONE)  # the window (7-20 July) is over


def _returned(office: World) -> int:
    """An announced round of 金城镇, 市政府办公室 and 直溪镇 with two sheets back."""
    round_id = add_round(office, "quarterly", "2026-Q3", announced=True)
    office.notify(round_id)
    sheets = sheets_sent(office)
    jincheng = fill(sheets["duchao1@jt.example"]["督查评分表-金城镇.xlsx"], GOOD,
                    [("窗口人员脱岗", "加强考勤管理", None),
                     ("学习台账不全", "补齐台账", date(2026, 8, 31))])  # fmt: skip
    mail(office, "duchao1@jt.example", {"a.xlsx": jincheng}, "金城镇")
    office.collect("2026-07-15T10:00")
    b02 = fill(sheets["duchao2@jt.example"]["督查评分表-市政府办公室.xlsx"], [20, 25, 28, 20],
               [("公文办理超时", None, None)])  # fmt: skip
    mail(office, "duchao2@jt.example", {"b.xlsx": b02}, "市政府办公室", sent=LATE)
    office.collect("2026-07-21T11:00")
    return round_id


def _env(office: World, language: str = "zh-CN") -> dict[str, str]:
    return {"DUBAN_DATABASE_URL": office.url, "DUBAN_HOME": str(office.home),
            "DUBAN_NOW": REPORT_AT, "DUBAN_SECRET": SECRET, "DUBAN_LANG": language,
            "DUBAN_SMTP_URL": office.smtp.url(), "COLUMNS": "300"}  # fmt: skip


def test_the_workbook_ranks_scores_and_lists_findings(office: World) -> None:
    _returned(office)
    done = runner.invoke(app, ["inspect", "report", str(EXAMPLE), "quarterly"], env=_env(office))
    assert done.exit_code == 0, done.output
    said = "第 2026-Q3 轮：抽查 3 个单位，收回评分表 2 份，未返回 1 份，发现问题 3 条"
    assert said in done.output
    folder = office.home / "out" / "nlzf-2026" / "inspections"
    book = openpyxl.load_workbook(folder / "督查汇总表-季度常规督查-2026-Q3.xlsx")
    assert book.sheetnames == ["得分汇总", "扣分明细", "发现问题", "典型问题", "说明"]
    rows = [[c.value for c in r] for r in book["得分汇总"].iter_rows()]
    assert rows[0][:5] == ["排名", "单位编码", "单位名称", "类别", "检查组"]
    assert rows[0][-4:] == ["总分", "得分率", "按时返回", "发现问题"]
    assert [r[:3] + r[5:] for r in rows[1:4]] == [
        [1, "B02", "市政府办公室", 20, 25, 28, 20, 93, 0.93, "否", 1],
        [2, "T01", "金城镇", 18, 27.5, 30, 16, 91.5, 0.915, "是", 2],
        ["未返回", "T03", "直溪镇", None, None, None, None, None, None, None, 0],
    ]
    assert rows[1][4] == "李华、刘洋"
    assert rows[4][2] == "平均"
    assert rows[4][5:10] == [19, 26.25, 29, 18, 92.3]
    findings = [[c.value for c in r] for r in book["发现问题"].iter_rows(min_row=2)]
    assert [(f[1], f[3], f[4], f[6]) for f in findings] == [
        ("ZG-B02-001", "市政府办公室", "公文办理超时", datetime(2026, 8, 18)),  # noqa: DTZ001 (openpyxl reads naive)
        ("ZG-T01-001", "金城镇", "窗口人员脱岗", datetime(2026, 8, 12)),  # noqa: DTZ001
        ("ZG-T01-002", "金城镇", "学习台账不全", datetime(2026, 8, 31)),  # noqa: DTZ001
    ]
    deductions = [[c.value for c in r] for r in book["扣分明细"].iter_rows(min_row=2)]
    assert [(d[1], d[2], d[5]) for d in deductions] == [
        ("市政府办公室", "重点工作推进", 5), ("市政府办公室", "工作作风和纪律", 2),
        ("金城镇", "组织领导", 2), ("金城镇", "重点工作推进", 2.5), ("金城镇", "问题整改", 4),
    ]  # fmt: skip


def test_the_bulletin_names_units_and_goes_out_once(office: World) -> None:
    _returned(office)
    before = len(office.smtp.messages)
    for _ in range(2):
        done = runner.invoke(app, ["inspect", "report", str(EXAMPLE), "quarterly", "--send"],
                             env=_env(office))  # fmt: skip
        assert done.exit_code == 0, done.output
    assert "本次发出 0 封" in done.output
    [(rcpt, message)] = _parsed(office.smtp.messages[before:])
    assert sorted(rcpt) == ["jiwei@jt.example", "shiweiban@jt.example", "zhengfuban@jt.example"]
    assert (
        message["Subject"]
        == "【2026年“能力作风建设提升年”活动】关于季度常规督查（2026-Q3）情况的通报"
    )
    body = message.get_body(("plain",))
    assert body is not None
    text = " ".join(str(body.get_content()).split())
    assert "本次共抽查3个单位，收回评分表2份，平均得分92.3分（满分100分）。" in text
    assert "其中1份评分表逾期返回。直溪镇的评分表尚未返回，其结果另行通报。" in text
    assert ("重点工作推进：2个单位被扣分，合计扣7.5分，主要表现为台账不完整。"
            "涉及单位：市政府办公室、金城镇。") in text  # fmt: skip
    assert "本次督查共发现问题3条，已全部列入整改台账。请市政府办公室、金城镇对照问题清单" in text
    html = message.get_body(("html",))
    assert html is not None
    page = str(html.get_content())
    assert '<html lang="zh-CN">' in page
    assert "一、总体情况" in page
    assert "五、整改要求" in page
    assert '<td style="padding: 4px 6px;">ZG-T01-002</td>' in page
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "督查通报-季度常规督查-2026-Q3.docx"
    printed = docx.Document(io.BytesIO(attached.get_content()))
    paragraphs = [p.text for p in printed.paragraphs]
    assert "关于季度常规督查（2026-Q3）情况的通报" in paragraphs
    headings = [p for p in paragraphs if p[:2] in ("一、", "二、", "三、", "四、", "五、")]
    assert headings == ["一、总体情况", "二、得分较高的单位", "三、得分较低的单位",
                        "四、存在的主要问题", "五、整改要求"]  # fmt: skip
    cells = [[c.text for c in row.cells] for row in printed.tables[0].rows]
    assert cells == [["排名", "单位", "得分", "得分率"], ["1", "市政府办公室", "93", "93.0%"],
                     ["2", "金城镇", "91.5", "91.5%"]]  # fmt: skip


def test_an_english_campaign(english_office: World) -> None:
    round_id = add_round(english_office, "quarterly", "2026-Q3", announced=False)
    english_office.notify(round_id)
    sheet = fill(sheets_sent(english_office)["duchao1@jt.example"]["scoresheet-金城镇.xlsx"], GOOD,
                 [("Staff absent from the counter", None, None)],
                 names=("Scores", "Findings"))  # fmt: skip
    mail(english_office, "duchao1@jt.example", {"s.xlsx": sheet}, "Re: assignment")
    english_office.collect("2026-07-15T10:00")
    with english_office.runtime(REPORT_AT) as rt:
        done = commands.report(rt, "quarterly", None)
    book = openpyxl.load_workbook(done.workbook)
    assert done.workbook.name == "inspection summary-quarterly-2026-Q3.xlsx"
    assert book.sheetnames == ["Scores", "Deductions", "Findings", "Typical problems", "About"]
    assert [c.value for c in book["Scores"][2]][:3] == [1, "T01", "金城镇"]
    paragraphs = [p.text for p in docx.Document(str(done.docx)).paragraphs]
    assert "Bulletin on the inspection “季度常规督查” (2026-Q3)" in paragraphs
    assert "1. Overview" in paragraphs
    assert any(p.startswith("Under the ") and ", unannounced)" in p for p in paragraphs)
    pending = (
        "The scoresheets of 市政府办公室, 直溪镇 have not come back; their results will follow."
    )
    assert pending in " ".join(paragraphs)


def test_nothing_is_reported_before_approval(office: World) -> None:
    done = runner.invoke(app, ["inspect", "report", str(EXAMPLE), "quarterly"], env=_env(office))
    assert done.exit_code == 1
    assert done.output.startswith("error: 督查“quarterly”还没有轮次")
    assert "Traceback" not in done.output


def test_scores_are_an_evaluation_source(office: World) -> None:
    """Each unit's latest sheet of every approved round, as the evaluation reads them."""
    _returned(office)
    with office.runtime(REPORT_AT) as rt:
        rounds = commands.inspection_rounds(rt)
    assert sorted(rounds) == ["B02", "T01"]
    [b02] = rounds["B02"]
    assert (b02.round_id, b02.full_mark, b02.score) == (
        "quarterly/2026-Q3",
        Decimal(100),
        Decimal(93),
    )
    assert [(d.item_title, d.points, d.reason) for d in b02.deductions] == [
        ("重点工作推进", Decimal(5), "台账不完整"),
        ("工作作风和纪律", Decimal(2), "台账不完整")]  # fmt: skip


# ------------------------------------------------------------------- ranking, pure


def _unit(unit_id: str, total: int | None) -> UnitResult:
    if total is None:
        return UnitResult(unit_id, unit_id, "", ())
    line = ScoreLine("a", Decimal(10), Decimal(total), None if total == 10 else "少")
    return UnitResult(unit_id, unit_id, "", (), Decimal(total), Decimal(10), scores=(line,))


def _report(*units: UnitResult) -> InspectionReport:
    header = Header("c", "C", "zh-CN", ZONE, "办", "i", "I", "L", True, None, None, None,
                    datetime(2026, 1, 1, tzinfo=ZONE))  # fmt: skip
    checklist = Checklist.model_validate(
        {"id": "k", "title": "K", "items": [{"id": "a", "title": "A", "points": 10}]}
    )
    return build_report(header, checklist, list(units))


def test_equal_totals_share_a_rank_and_pending_units_are_never_last() -> None:
    report = _report(_unit("U3", 8), _unit("U1", 9), _unit("U9", None), _unit("U2", 9),
                     _unit("U4", 7), _unit("U5", 10), _unit("U6", 7))  # fmt: skip
    assert [(u.unit_id, u.rank) for u in report.units] == [
        ("U5", 1),
        ("U1", 2),
        ("U2", 2),
        ("U3", 4),
        ("U4", 5),
        ("U6", 5),
        ("U9", None),
    ]
    assert [u.unit_id for u in report.top(3)] == ["U5", "U1", "U2"]
    assert [u.unit_id for u in report.bottom(3)] == ["U6", "U4", "U3"]
    [problem] = report.problems
    assert (problem.units, problem.lost, problem.reasons) == (
        ("U1", "U2", "U3", "U4", "U6"), Decimal(10), ("少",))  # fmt: skip


def test_too_few_units_name_no_worst() -> None:
    report = _report(_unit("U1", 9), _unit("U2", 8), _unit("U3", 7))
    assert report.bottom(2) == ()
    assert [u.unit_id for u in report.top(2)] == ["U1", "U2"]
