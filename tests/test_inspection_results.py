"""Inspection notices and results (issue 16, items 4 and 5) on a real ledger, SQLite and
PostgreSQL, over the loopback SMTP server and dovecot: an approved round tells each inspector
once, with one signed, pre-filled scoresheet per unit of their teams, and each unit of an
announced inspection its visit window (an unannounced one's units hear nothing); a second
notify sends nothing. Filled sheets come back through the same intake: a team member's valid
sheet is recorded and its findings become rectification items of the unit with their
deadlines; a score above its item's maximum is refused naming the cell and the maximum, and
the corrected sheet is accepted; a sheet from an inspector outside the unit's team is held;
a message read twice, or a sheet sent again, records once.

The rounds are written into the ledger directly (as ``duban inspect approve`` leaves them):
the draw is tested elsewhere."""

from __future__ import annotations

import email
import email.policy
import email.utils
import imaplib
import io
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.token import ScoresheetIdentity, verify
from duban.cli.app import app
from duban.implement.commands import collect
from duban.inspect.notify import NotifyReport, notify_round
from duban.inspect.rounds import APPROVED
from duban.inspect.sheets import ScoresheetBuilder
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import (
    EventRow,
    InspectionAssignmentRow,
    InspectionRoundRow,
    InspectionScoreRow,
    IntakeFileRow,
    IntakeRow,
    RectificationRow,
)
from duban.model.forms import FIRST_DATA_ROW
from duban.model.scoresheets import SCORE_KEYS
from duban.runtime import Runtime
from duban.settings import load_settings
from duban.testing.helpers import copy_campaign, edit_campaign
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE
from .test_collect import PASSWORD, USER, _empty_mailbox, imap  # noqa: F401  (imap)
from .test_scoresheet import with_findings

runner = CliRunner()
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
NOTIFY_AT = "2026-07-06T09:00"  # a Monday; the window is the next 10 working days
COLLECT_AT = "2026-07-15T10:00"  # a Wednesday: findings without a deadline are due 20 working
# days later, 12 August 2026 (no holiday between: 16-17 July, 20-31 July, 3-7 and 10-12 August)
SECRET = "inspection-secret-0123456789abcdef"
TEAMS = {"T01": ["I01", "I02"], "B02": ["I02", "I04"], "T03": ["I04", "I06"]}
"""金城镇, 市政府办公室 and 直溪镇, and their teams (inspectors of data/example/inspectors.csv:
I01 王明 duchao1@, I02 李华 duchao2@, I04 刘洋 duchao4@, I06 杨帆 duchao6@)."""
UNIT_NAMES = {"T01": "金城镇", "B02": "市政府办公室", "T03": "直溪镇"}
GOOD = [18, 27.5, 30, 16]
"""Scores of the example checklist's four items (maximum 20, 30, 30, 20): total 91.5."""


@dataclass
class World:
    url: str
    engine: Engine
    home: Path
    smtp: LocalSmtpServer
    imap: LocalImapServer
    campaign: Path = EXAMPLE

    def runtime(self, now: str) -> Runtime:
        settings = load_settings(
            home=self.home, database_url=self.url, now=now, secret=SECRET,
            smtp_url=self.smtp.url(), intake=self.imap.url(USER, PASSWORD),
        )  # fmt: skip
        return Runtime(settings, self.campaign)

    def notify(self, round_id: int, now: str = NOTIFY_AT) -> NotifyReport:
        with self.runtime(now) as rt, rt.mailer() as mailer, rt.session() as session:
            return notify_round(session, rt.bundle, round_id, mailer=mailer, clock=rt.clock,
                                secret=rt.secret, env=rt.env)  # fmt: skip

    def collect(self, now: str = COLLECT_AT) -> list[str]:
        """``duban collect``; the messages it sent, each as recipients, subject and text."""
        before = len(self.smtp.messages)
        with self.runtime(now) as rt:
            collect(rt)
        return [_said(m) for m in _parsed(self.smtp.messages[before:])]

    def scalar(self, query: Any) -> Any:
        with session_scope(self.engine) as session:
            return session.scalar(query)

    def rows(self, query: Any) -> list[Any]:
        with session_scope(self.engine) as session:
            return [tuple(r) for r in session.execute(query)]


@pytest.fixture
def smtp(imap: LocalImapServer) -> Iterator[LocalSmtpServer]:  # noqa: F811
    _empty_mailbox(imap)
    with LocalSmtpServer() as server:
        yield server


@pytest.fixture
def world(
    ledger_url: str,
    tmp_path: Path,
    smtp: LocalSmtpServer,
    imap: LocalImapServer,  # noqa: F811
) -> Iterator[World]:
    yield from _world(ledger_url, tmp_path, smtp, imap, EXAMPLE)


@pytest.fixture
def english(
    ledger_url: str,
    tmp_path: Path,
    smtp: LocalSmtpServer,
    imap: LocalImapServer,  # noqa: F811
) -> Iterator[World]:
    """The example campaign in English."""
    path = copy_campaign(EXAMPLE, tmp_path / "english")
    edit_campaign(path, lambda data: data.update(language="en"))
    yield from _world(ledger_url, tmp_path, smtp, imap, path)


def _world(
    url: str, tmp_path: Path, smtp: LocalSmtpServer, mailbox: LocalImapServer, campaign: Path
) -> Iterator[World]:
    home = tmp_path / "home"
    env = {"DUBAN_DATABASE_URL": url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-07-01"}
    assert runner.invoke(app, ["init", str(campaign)], env=env).exit_code == 0
    engine = make_engine(url)
    try:
        yield World(url, engine, home, smtp, mailbox, campaign)
    finally:
        engine.dispose()


def add_round(world: World, inspection: str, label: str, announced: bool) -> int:
    """An approved round of ``TEAMS``, as ``duban inspect approve`` leaves one."""
    at = datetime(2026, 7, 3, 16, 0, tzinfo=ZONE)
    with session_scope(world.engine) as session:
        row = InspectionRoundRow(
            campaign_id=CID, inspection_id=inspection, label=label, state=APPROVED,
            announced=announced, created_at=at, created_by="coordinator", approved_at=at,
            approved_by="coordinator",
        )  # fmt: skip
        session.add(row)
        session.flush()
        for position, (unit, team) in enumerate(TEAMS.items(), start=1):
            session.add(InspectionAssignmentRow(
                round_id=row.id, campaign_id=CID, unit_id=unit, stratum="",
                position=position, inspectors=team,
            ))  # fmt: skip
        return row.id


def _parsed(deliveries: Any) -> list[tuple[tuple[str, ...], email.message.EmailMessage]]:
    out = []
    for delivery in deliveries:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        out.append((tuple(delivery.rcpt_tos), message))
    return out


def _said(sent: tuple[tuple[str, ...], email.message.EmailMessage]) -> str:
    rcpt, message = sent
    body = message.get_body(("plain",))
    assert body is not None
    return f"{','.join(rcpt)} {message['Subject']} {' '.join(str(body.get_content()).split())}"


def attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        assert isinstance(part, email.message.EmailMessage)
        data = part.get_content()
        assert isinstance(data, bytes)
        found[str(part.get_filename())] = data
    return found


def sheets_sent(world: World) -> dict[str, dict[str, bytes]]:
    """Each inspector address's attachments, from what the SMTP server received."""
    return {rcpt[0]: attachments(m) for rcpt, m in _parsed(world.smtp.messages)
            if rcpt[0].startswith("duchao")}  # fmt: skip


def fill(
    data: bytes,
    scores: Sequence[float | None],
    findings: list[tuple[Any, ...]],
    *,
    names: tuple[str, str] = ("评分", "发现问题"),
    reasons: bool = True,
) -> bytes:
    """A team's copy: each score with a reason when points are deducted (unless not
    ``reasons``), the findings below, saved as Excel would (openpyxl)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws, found = book[names[0]], book[names[1]]
    assert isinstance(ws, Worksheet)
    assert isinstance(found, Worksheet)
    maxima = [20, 30, 30, 20]
    for offset, (score, most) in enumerate(zip(scores, maxima, strict=True)):
        ws.cell(FIRST_DATA_ROW + offset, SCORE_KEYS.index("score") + 1, score)
        if reasons and score is not None and score < most:
            ws.cell(FIRST_DATA_ROW + offset, SCORE_KEYS.index("reason") + 1, "台账不完整")
    return with_findings(book, found, findings)


def mail(
    world: World,
    sender: str,
    files: dict[str, bytes],
    subject: str,
    sent: datetime = datetime(2026, 7, 14, 17, 0, tzinfo=ZONE),
) -> bytes:
    """A reply from ``sender`` with ``files`` attached, filed in the intake mailbox (on
    ``sent``); its bytes (to file the very same message again)."""
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = "youhuaban@jt.example"
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid(domain="jt.example")
    message["Date"] = email.utils.format_datetime(sent)
    message.set_content("评分表见附件。")
    for name, data in files.items():
        message.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)  # fmt: skip
    raw = message.as_bytes()
    file_raw(world, raw, sent)
    return raw


def file_raw(
    world: World, raw: bytes, sent: datetime = datetime(2026, 7, 14, 17, 0, tzinfo=ZONE)
) -> None:
    client = imaplib.IMAP4("127.0.0.1", world.imap.port)
    client.login(USER, PASSWORD)
    client.append("INBOX", "", imaplib.Time2Internaldate(sent), raw)
    client.logout()


def file_outcomes(world: World) -> list[tuple[str | None, str, str | None]]:
    query = select(IntakeRow.sender, IntakeFileRow.outcome, IntakeFileRow.reason).join(
        IntakeRow, IntakeFileRow.intake_id == IntakeRow.id
    )
    return world.rows(query.order_by(IntakeFileRow.id))


def items(world: World) -> list[tuple[str, str, str, date | None, str, int | None]]:
    query = select(
        RectificationRow.code, RectificationRow.unit_id, RectificationRow.finding,
        RectificationRow.deadline, RectificationRow.source, RectificationRow.inspection_round_id,
    ).order_by(RectificationRow.id)  # fmt: skip
    return world.rows(query)


def versions(world: World) -> list[tuple[str, int, Decimal, str]]:
    query = select(
        InspectionScoreRow.unit_id, InspectionScoreRow.version, InspectionScoreRow.total,
        InspectionScoreRow.inspector_id,
    ).order_by(InspectionScoreRow.id)  # fmt: skip
    return world.rows(query)


# --------------------------------------------------------------------------- notices


def test_notify_tells_each_inspector_once_with_a_sheet_per_unit(world: World) -> None:
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    report = world.notify(round_id)
    assert (report.inspectors, report.units, report.sent, report.unsent) == (4, 3, 7, ())
    assert report.window == (date(2026, 7, 7), date(2026, 7, 20))
    sent = _parsed(world.smtp.messages)
    by_rcpt = dict(sent)
    assert sorted(by_rcpt) == sorted([
        ("duchao1@jt.example",), ("duchao2@jt.example",), ("duchao4@jt.example",),
        ("duchao6@jt.example",), ("jinchengzhen@jt.example",), ("zhengfuban@jt.example",),
        ("zhixizhen@jt.example",),
    ])  # fmt: skip
    expected = {"duchao1@jt.example": ["T01"], "duchao2@jt.example": ["T01", "B02"],
                "duchao4@jt.example": ["B02", "T03"], "duchao6@jt.example": ["T03"]}  # fmt: skip
    for address, units in expected.items():
        files = attachments(by_rcpt[(address,)])
        assert sorted(files) == sorted(f"督查评分表-{UNIT_NAMES[u]}.xlsx" for u in units)
        for unit in units:
            meta = read_metadata(files[f"督查评分表-{UNIT_NAMES[unit]}.xlsx"])
            identity = ScoresheetIdentity(CID, "quarterly", "2026-Q3", unit)
            assert (meta["unit_id"], meta["kind"], meta["round"]) == (unit, "scoresheet",
                                                                      "2026-Q3")  # fmt: skip
            assert verify(SECRET.encode(), identity, meta["token"])
    li_hua = _said(((), by_rcpt[("duchao2@jt.example",)]))
    assert "李华同志：" in li_hua
    assert "请于2026年7月7日至2026年7月20日（10个工作日）对下列单位开展检查" in li_hua
    assert "1. 金城镇 同组检查人员：王明（duchao1@jt.example）" in li_hua
    assert "2. 市政府办公室 同组检查人员：刘洋（duchao4@jt.example）" in li_hua
    assert "明察暗访" not in li_hua
    unit = _said(((), by_rcpt[("jinchengzhen@jt.example",)]))
    assert "检查组将于2026年7月7日至2026年7月20日期间到贵单位开展检查" in unit
    assert "1. 组织领导（20分）" in unit
    assert not attachments(by_rcpt[("jinchengzhen@jt.example",)])
    assert world.scalar(select(InspectionRoundRow.state)) == "notified"
    [payload] = [p for (p,) in world.rows(select(EventRow.payload).where(
        EventRow.kind == "inspection.notified"))]  # fmt: skip
    assert payload["window"] == ["2026-07-07", "2026-07-20"]

    again = world.notify(round_id, now="2026-07-08T09:00")
    assert (again.already, again.sent, again.window) == (True, 0, report.window)
    assert len(world.smtp.messages) == 7
    assert world.scalar(select(func.count()).where(EventRow.kind == "inspection.notified")) == 1


def test_two_notifies_at_once_send_each_message_once(world: World) -> None:
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: world.notify(round_id), range(2)))
    recipients = [rcpt for rcpt, _ in _parsed(world.smtp.messages)]
    assert len(recipients) == len(set(recipients)) == 7
    assert sum(r.sent for r in reports) == 7
    assert world.scalar(select(func.count()).where(EventRow.kind == "inspection.notified")) == 1


def test_an_unannounced_round_tells_only_its_inspectors(world: World) -> None:
    round_id = add_round(world, "unannounced", "2026-07-06", announced=False)
    report = world.notify(round_id)
    assert (report.inspectors, report.units, report.sent) == (4, 0, 4)
    sent = _parsed(world.smtp.messages)
    assert sorted(rcpt[0] for rcpt, _ in sent) == [
        "duchao1@jt.example", "duchao2@jt.example", "duchao4@jt.example", "duchao6@jt.example",
    ]  # fmt: skip
    assert all("本次为不打招呼的明察暗访，请勿提前告知被检查单位。" in _said(s) for s in sent)


# --------------------------------------------------------------------------- results


def test_results_come_back_through_intake(world: World) -> None:
    """Accepted with its findings as items; refused naming the cell and the maximum, then
    accepted corrected; held from outside the team; the same message twice and the same
    sheet again record once."""
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    world.notify(round_id)
    sheets = sheets_sent(world)
    jincheng = sheets["duchao1@jt.example"]["督查评分表-金城镇.xlsx"]
    filled = fill(jincheng, GOOD, [("窗口人员脱岗", "加强考勤管理", None),
                                   ("学习台账不全", "补齐台账", date(2026, 8, 31))])  # fmt: skip

    raw = mail(world, "duchao6@jt.example", {"督查评分表-金城镇.xlsx": filled}, "金城镇评分表")
    assert world.collect() == []  # held: no answer
    assert file_outcomes(world) == [("duchao6@jt.example", "held", "not-on-team")]
    assert items(world) == []
    assert versions(world) == []
    review = runner.invoke(app, ["review", str(EXAMPLE)], env={
        "DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "zh-CN",
        "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "400"})  # fmt: skip
    assert "发件人 duchao6@jt.example 不是“金城镇”检查组（王明、李华）成员" in review.output

    mail(world, "duchao1@jt.example", {"督查评分表-金城镇.xlsx": filled}, "回复：检查任务通知")
    [answer] = world.collect()
    assert answer.startswith("duchao1@jt.example 【已记录】督查评分表：金城镇 91.5/100 分 王明：")
    assert "已记录为第 1 版，总分 91.5 分（满分 100 分）" in answer
    assert "ZG-T01-001 窗口人员脱岗（整改时限 2026-08-12）" in answer
    assert "ZG-T01-002 学习台账不全（整改时限 2026-08-31）" in answer
    assert items(world) == [
        ("ZG-T01-001", "T01", "窗口人员脱岗", date(2026, 8, 12), "inspection", round_id),
        ("ZG-T01-002", "T01", "学习台账不全", date(2026, 8, 31), "inspection", round_id),
    ]
    assert versions(world) == [("T01", 1, Decimal("91.5"), "I01")]

    file_raw(world, raw.replace(b"duchao6@", b"duchao1@"))  # a new message, the same sheet
    mail(world, "duchao2@jt.example", {"评分表.xlsx": filled}, "再发一次")
    answers = world.collect()
    assert len(answers) == 2
    assert all("与此前记录的第 1 版相同，未重复记录" in a for a in answers)
    assert "ZG-T01-001 窗口人员脱岗（整改时限 2026-08-12）（此前已列入）" in answers[1]
    assert len(items(world)) == 2
    assert len(versions(world)) == 1

    over = fill(sheets["duchao2@jt.example"]["督查评分表-市政府办公室.xlsx"], [20, 35, 28, 20],
                [("公文办理超时", None, None)])  # fmt: skip
    mail(world, "duchao2@jt.example", {"督查评分表-市政府办公室.xlsx": over}, "市政府办公室")
    [refused] = world.collect()
    assert refused.startswith("duchao2@jt.example 【未记录】督查评分表有问题需更正（市政府办公室）")
    assert "1) 评分!E4: 得分 35 超过该项分值，应为 0 至 30 分" in refused
    assert [v for v in versions(world) if v[0] == "B02"] == []

    corrected = fill(sheets["duchao2@jt.example"]["督查评分表-市政府办公室.xlsx"],
                     [20, 25, 28, 20], [("公文办理超时", None, None)])  # fmt: skip
    message = mail(world, "duchao4@jt.example", {"督查评分表-市政府办公室.xlsx": corrected},
                   "更正")  # fmt: skip
    [accepted] = world.collect()
    assert accepted.startswith("duchao4@jt.example 【已记录】督查评分表：市政府办公室 93/100 分")
    assert items(world)[-1] == ("ZG-B02-001", "B02", "公文办理超时", date(2026, 8, 12),
                                "inspection", round_id)  # fmt: skip

    file_raw(world, message)  # the very same message, read again
    assert world.collect() == []
    last = world.rows(select(IntakeRow.status, IntakeRow.reason).order_by(IntakeRow.id.desc()))
    assert last[0] == ("duplicate", "duplicate-message")
    assert versions(world) == [("T01", 1, Decimal("91.5"), "I01"),
                               ("B02", 1, Decimal("93"), "I04")]  # fmt: skip
    assert len(items(world)) == 3


def test_a_later_sheet_replaces_the_earlier_and_keeps_it(world: World) -> None:
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    world.notify(round_id)
    blank = sheets_sent(world)["duchao6@jt.example"]["督查评分表-直溪镇.xlsx"]
    first = fill(blank, [20, 30, 30, 20], [("值班记录缺失", None, None)])
    mail(world, "duchao6@jt.example", {"督查评分表-直溪镇.xlsx": first}, "直溪镇")
    world.collect()
    later = fill(blank, [20, 28, 30, 20], [("值班记录缺失", None, None),
                                           ("会议纪要未归档", "归档", None)])  # fmt: skip
    late = datetime(2026, 7, 21, 9, 0, tzinfo=ZONE)  # the window closed on 20 July
    mail(world, "duchao4@jt.example", {"督查评分表-直溪镇.xlsx": later}, "直溪镇（更正）", late)
    [answer] = world.collect("2026-07-21T10:00")
    assert (
        "已记录为第 2 版，替代此前的第 1 版，总分 98 分（满分 100 分）。本表晚于检查期限送达"
        in answer
    )
    assert "ZG-T03-001 值班记录缺失（整改时限 2026-08-12）（此前已列入）" in answer
    # accepted on 21 July: 20 working days later is 18 August
    assert "ZG-T03-002 会议纪要未归档（整改时限 2026-08-18）" in answer
    assert versions(world) == [("T03", 1, Decimal("100"), "I06"), ("T03", 2, Decimal("98"), "I04")]
    assert world.rows(select(InspectionScoreRow.on_time).order_by(InspectionScoreRow.id)) == [
        (True,),
        (False,),
    ]
    assert [code for code, *_ in items(world)] == ["ZG-T03-001", "ZG-T03-002"]


def test_every_problem_of_a_sheet_is_named(world: World) -> None:
    """An item left unscored, a deduction without its reason, a negative score and a finding
    row without its finding: each named by its cell, nothing recorded."""
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    world.notify(round_id)
    blank = sheets_sent(world)["duchao6@jt.example"]["督查评分表-直溪镇.xlsx"]
    bad = fill(blank, [15, None, -1, 20], [(None, "补充制度", None)], reasons=False)
    mail(world, "duchao6@jt.example", {"督查评分表-直溪镇.xlsx": bad}, "直溪镇")
    [answer] = world.collect()
    assert "有 4 处问题，本表未记录任何评分" in answer
    assert "评分!E4: “得分”为必填项，不能为空" in answer
    assert "评分!E5: “得分”不能小于 0" in answer
    assert "评分!F3: 为空：扣 5 分须写明扣分理由" in answer
    assert "发现问题!A3: 为空：这一行填写了整改建议或时限，须写明发现的问题" in answer
    assert versions(world) == []
    assert items(world) == []


def test_an_english_campaign(english: World) -> None:
    round_id = add_round(english, "quarterly", "2026-Q3", announced=True)
    english.notify(round_id)
    by_rcpt = dict(_parsed(english.smtp.messages))
    told = _said(((), by_rcpt[("duchao2@jt.example",)]))
    assert "Please visit the units below between 7 July 2026 and 20 July 2026" in told
    assert "1. 金城镇 Fellow team members: 王明 (duchao1@jt.example)" in told
    assert "An inspection team will visit you between 7 July 2026 and 20 July 2026" in _said(
        ((), by_rcpt[("jinchengzhen@jt.example",)])
    )
    files = attachments(by_rcpt[("duchao2@jt.example",)])
    assert sorted(files) == ["scoresheet-市政府办公室.xlsx", "scoresheet-金城镇.xlsx"]
    over = fill(files["scoresheet-金城镇.xlsx"], [25, 30, 30, 20], [],
                names=("Scores", "Findings"))  # fmt: skip
    mail(english, "duchao2@jt.example", {"scoresheet-金城镇.xlsx": over}, "Re: assignment")
    [answer] = english.collect()
    assert answer.startswith("duchao2@jt.example [Not recorded] Scoresheet to correct (金城镇)")
    assert "1) Scores!E3: the score 25 is above the item's maximum: expected 0 to 20" in answer


def test_a_held_sheet_accepted_in_review(world: World) -> None:
    """The coordinator vouches for a sheet sent from outside the team: recorded as the
    coordinator's, checked like any other."""
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    world.notify(round_id)
    blank = sheets_sent(world)["duchao1@jt.example"]["督查评分表-金城镇.xlsx"]
    filled = fill(blank, GOOD, [("窗口人员脱岗", None, None)])
    mail(world, "wangming@personal.example", {"督查评分表-金城镇.xlsx": filled}, "金城镇")
    assert world.collect() == []
    held = world.scalar(select(IntakeFileRow.id).where(IntakeFileRow.outcome == "held"))
    env = {"DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "en",
           "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "200"}  # fmt: skip
    done = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}", "--by", "市优化办"],
                         env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"F{held}: accepted (督查评分表已记录)"
    again = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}"], env=env)
    assert again.output.strip() == f"F{held}: already accepted (version 1); nothing changed"
    assert versions(world) == [("T01", 1, Decimal("91.5"), "市优化办")]
    assert items(world) == [
        ("ZG-T01-001", "T01", "窗口人员脱岗", date(2026, 8, 12), "inspection", round_id)
    ]


def test_a_sheet_for_a_unit_the_round_does_not_visit_is_held(world: World) -> None:
    """A genuine token (a sheet made for 市委办公室 in this round), but no visit to it."""
    round_id = add_round(world, "quarterly", "2026-Q3", announced=True)
    world.notify(round_id)
    with world.runtime(NOTIFY_AT) as rt:
        spec = rt.bundle.campaign.inspection("quarterly")
        end = datetime(2026, 7, 21, tzinfo=ZONE)
        blank = ScoresheetBuilder(rt.bundle, spec, "2026-Q3", end, rt.secret).workbook(
            rt.bundle.unit("B01")
        )
    mail(world, "duchao1@jt.example", {"督查评分表-市委办公室.xlsx": fill(blank, GOOD, [])}, "B01")
    assert world.collect() == []
    assert file_outcomes(world) == [("duchao1@jt.example", "held", "no-visit")]
    assert versions(world) == []
