"""Public-evaluation ballots (issue 17 item 1) out and back on a real ledger, SQLite and
PostgreSQL, over the loopback SMTP server and dovecot: each evaluator of the register gets one
message with their signed ballot, once however often the command runs (or two runs at once),
the close told and kept. Filled ballots come back through the same intake: the evaluator's
ballot is recorded and answered; the same message read twice, or the same file sent again,
records once; a ballot from another address is held; a changed unit row is refused naming
the cell; a mark off the scale is recorded, spoiled, and told; a later ballot is recorded
beside the earlier and only the latest counts; a ballot after the close is recorded and
told it will not count."""

from __future__ import annotations

import email.message
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from typer.testing import CliRunner

from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.token import BallotIdentity, verify
from duban.cli.app import app
from duban.errors import DubanError
from duban.evaluate import commands
from duban.evaluate.ballot_ledger import ballot_round, ballots_of
from duban.evaluate.ballot_send import BallotSendReport
from duban.evaluate.ballotcheck import read_ballot
from duban.evaluate.ballots import counted_ballots
from duban.evaluate.ballotsheets import BallotBuilder
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.sniff import sniff
from duban.ledger.db import session_scope
from duban.ledger.schema import BallotRow, EventRow, IntakeFileRow, IntakeRow
from duban.model.ballotsheets import BALLOT_KEYS, ballot_form
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.model.scoring import BallotSpec

from . import test_collect, test_inspection_results
from .conftest import EXAMPLE
from .test_inspection_results import (
    SECRET,
    World,
    _parsed,
    _said,
    attachments,
    file_outcomes,
    file_raw,
    mail,
)

imap, smtp = test_collect.imap, test_inspection_results.smtp
world, english = test_inspection_results.world, test_inspection_results.english
"""The inspection results' worlds (the example campaign, and in English), shared."""

runner = CliRunner()
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
SEND_AT = "2026-11-02T09:00"
CLOSES = "2026-11-20"  # the whole day: the round closes at 2026-11-21 00:00 in Shanghai
CLOSE = datetime(2026, 11, 21, tzinfo=ZONE)
COLLECT_AT = "2026-11-10T10:00"
ON_TIME = datetime(2026, 11, 9, 17, 0, tzinfo=ZONE)
"""Every date here is before the machine's own: a message appended with a later date was
seen received at the machine's time (dovecot), which no assertion can hold."""
SHI = "shichunmei@jt.example"
"""E15 施春梅 (服务对象), whose ballot lists 西城街道 (T08), 市公安局 (B09), 市行政审批局 (B17)."""
SHI_FILE = "测评表-民主评议-施春梅.xlsx"
MARK = BALLOT_KEYS.index("mark") + 1
COMMENT = BALLOT_KEYS.index("comment") + 1


def send(
    world: World, closes: str | None = CLOSES, now: str = SEND_AT, label: str | None = None
) -> BallotSendReport:
    with world.runtime(now) as rt:
        return commands.ballots(rt, "public-evaluation", label, closes)


def collect(world: World, now: str = COLLECT_AT) -> list[str]:
    return world.collect(now)


def ballots_sent(world: World) -> dict[str, dict[str, bytes]]:
    """Each evaluator address's attachments, from what the SMTP server received."""
    return {rcpt[0]: attachments(m) for rcpt, m in _parsed(world.smtp.messages)}


def message_to(world: World, address: str) -> tuple[tuple[str, ...], email.message.EmailMessage]:
    [found] = [s for s in _parsed(world.smtp.messages) if s[0] == (address,)]
    return found


def fill(
    data: bytes,
    marks: Sequence[tuple[Any, str | None]],
    *,
    sheet: str = "测评表",
    cells: dict[str, Any] | None = None,
) -> bytes:
    """The evaluator's copy with ``marks`` (mark, comment) a row each, and ``cells`` set
    (to tamper with the pre-filled units), saved as Excel would (openpyxl)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[sheet]
    assert isinstance(ws, Worksheet)
    ws.protection.sheet = False
    for offset, (mark, comment) in enumerate(marks):
        ws.cell(FIRST_DATA_ROW + offset, MARK, mark)
        ws.cell(FIRST_DATA_ROW + offset, COMMENT, comment)
    for cell, value in (cells or {}).items():
        ws[cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def recorded(world: World) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    query = select(BallotRow.evaluator_id, BallotRow.category, BallotRow.marks,
                   BallotRow.comments).order_by(BallotRow.id)  # fmt: skip
    return world.rows(query)


# --------------------------------------------------------------------------- sending


def test_each_evaluator_gets_their_ballot_once(world: World) -> None:
    report = send(world)
    assert (report.label, report.evaluators, report.sent, report.unsent) == ("2026", 15, 15, ())
    assert report.closes == CLOSE
    sent = ballots_sent(world)
    assert len(sent) == 15
    files = sent[SHI]
    assert list(files) == [SHI_FILE]
    meta = read_metadata(files[SHI_FILE])
    identity = BallotIdentity(CID, "public-evaluation", "2026", "E15")
    assert (meta["kind"], meta["unit_id"], meta["round"]) == ("ballot", "E15", "2026")
    assert verify(SECRET.encode(), identity, meta["token"])
    told = _said(message_to(world, SHI))
    assert told.startswith(
        f"{SHI} 【2026年“能力作风建设提升年”活动】民主评议（2026）测评表（施春梅） 施春梅同志："
    )
    assert "请您对附件测评表所列 3 个单位的工作作出评价" in told
    assert "测评截止时间：2026年11月20日（星期五）24:00前" in told
    assert "“评价”一栏从下拉列表中选择：满意、基本满意、不满意" in told
    assert "测评不记名" in told
    with session_scope(world.engine) as session:
        opened = ballot_round(session, CID, "public-evaluation", "2026")
    assert opened is not None
    assert (opened.closes, opened.evaluators) == (CLOSE, 15)

    again = send(world, closes=None, now="2026-11-03T09:00")
    assert (again.sent, again.evaluators, again.closes) == (0, 15, CLOSE)
    with pytest.raises(DubanError, match="round 2026 was sent closing"):
        send(world, closes="2026-11-27")
    env = {"DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "zh-CN",
           "DUBAN_NOW": "2026-11-04T09:00", "DUBAN_SECRET": SECRET,
           "DUBAN_SMTP_URL": world.smtp.url(), "COLUMNS": "200"}  # fmt: skip
    cli = runner.invoke(app, ["evaluate", "ballots", str(EXAMPLE), "--closes", CLOSES], env=env)
    assert cli.exit_code == 0, cli.output
    assert "第 2026 轮：本次发出 0 份测评表，共 15 名评议人" in cli.output
    assert len(world.smtp.messages) == 15
    kinds = world.scalar(select(func.count()).where(EventRow.kind == "evaluation.ballots-sent"))
    assert kinds == 1


def test_the_first_send_needs_the_close(world: World) -> None:
    with pytest.raises(DubanError, match="say when the round closes"):
        send(world, closes=None)
    assert world.smtp.messages == []


def test_two_runs_at_once_send_each_ballot_once(world: World) -> None:
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: send(world), range(2)))
    recipients = [rcpt for rcpt, _ in _parsed(world.smtp.messages)]
    assert len(recipients) == len(set(recipients)) == 15
    assert sum(r.sent for r in reports) == 15
    kinds = world.scalar(select(func.count()).where(EventRow.kind == "evaluation.ballots-sent"))
    assert kinds == 1


# --------------------------------------------------------------------------- returns


def test_ballots_come_back_through_intake(world: World) -> None:
    """Recorded and answered; the same message twice and the same file again recorded once;
    held from another address; refused naming a changed unit cell."""
    send(world)
    blank = ballots_sent(world)[SHI][SHI_FILE]
    filled = fill(blank, [("满意", None), ("基本满意", "窗口排队时间长"), (None, None)])

    mail(world, "someone@else.example", {SHI_FILE: filled}, "测评表", ON_TIME)
    assert collect(world) == []  # held: no answer
    assert file_outcomes(world) == [("someone@else.example", "held", "not-evaluator")]
    review = runner.invoke(app, ["review", str(EXAMPLE)], env={
        "DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "zh-CN",
        "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "400"})  # fmt: skip
    said = "附件是评议人“施春梅”（E15）的测评表，但发件人 someone@else.example 不是"
    assert said in review.output
    assert recorded(world) == []

    raw = mail(world, SHI, {SHI_FILE: filled}, "回复：民主评议测评表", ON_TIME)
    [answer] = collect(world)
    assert answer.startswith(f"{SHI} 【已记录】民主评议（2026）测评表：已评价 2/3 个单位 施春梅：")
    assert "（测评表-民主评议-施春梅.xlsx）：已记录。表中共 3 个单位，已评价 2 个" in answer
    assert "不计入" not in answer
    assert recorded(world) == [
        ("E15", "服务对象", {"T08": "满意", "B09": "基本满意"}, {"B09": "窗口排队时间长"})
    ]

    file_raw(world, raw, ON_TIME)  # the very same message, read again
    assert collect(world) == []
    last = world.rows(select(IntakeRow.status, IntakeRow.reason).order_by(IntakeRow.id.desc()))
    assert last[0] == ("duplicate", "duplicate-message")
    mail(world, SHI, {"测评表.xlsx": filled}, "再发一次", ON_TIME)  # the same file, a new message
    [again] = collect(world)
    assert "与 2026年11月9日 17:00 收到的测评表相同，未重复记录" in again
    assert len(recorded(world)) == 1

    changed = fill(blank, [("满意", None)], cells={"A4": "B01"})
    mail(world, SHI, {SHI_FILE: changed}, "更正", ON_TIME)
    [refused] = collect(world)
    assert refused.startswith(f"{SHI} 【未记录】测评表有问题需更正（民主评议 2026）")
    assert "1) 测评表!A4: 单位编号应为“B09”（市公安局），请勿修改预填的被测评单位" in refused
    assert len(recorded(world)) == 1


def test_a_held_ballot_accepted_in_review(world: World) -> None:
    """The coordinator vouches for a ballot the evaluator sent from another address: recorded
    as the evaluator's own; accepting it again records nothing more."""
    send(world)
    filled = fill(ballots_sent(world)[SHI][SHI_FILE], [("满意", None), ("基本满意", None)])
    mail(world, "shichunmei@personal.example", {SHI_FILE: filled}, "测评表", ON_TIME)
    assert collect(world) == []
    assert recorded(world) == []
    [(held,)] = world.rows(select(IntakeFileRow.id).where(IntakeFileRow.outcome == "held"))
    env = {"DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "en",
           "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "200"}  # fmt: skip
    done = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}", "--by", "市优化办"],
                         env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip().startswith(f"F{held}: accepted (")
    assert recorded(world) == [("E15", "服务对象", {"T08": "满意", "B09": "基本满意"}, {})]
    again = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}"], env=env)
    assert again.output.strip().startswith(f"F{held}: already accepted (")
    assert len(recorded(world)) == 1


def test_spoiled_later_and_late_ballots(world: World) -> None:
    """A mark off the scale recorded and told; a later ballot recorded beside the earlier,
    only the latest counted; a ballot after the close recorded and told it will not count."""
    send(world)
    blank = ballots_sent(world)[SHI][SHI_FILE]
    first = fill(blank, [("很好", None), ("满意", None), ("不满意", "办事拖拉")])
    mail(world, SHI, {SHI_FILE: first}, "测评表", ON_TIME)
    [answer] = collect(world)
    assert "已评价 3 个" in answer
    assert "下列评价不在评价档次之内，不计入测评结果： - 西城街道：“很好”" in answer
    assert recorded(world)[0][2] == {"T08": "很好", "B09": "满意", "B17": "不满意"}

    later = fill(blank, [("满意", None), ("满意", None), ("基本满意", None)])
    mail(world, SHI, {SHI_FILE: later}, "更正", datetime(2026, 11, 12, 9, 0, tzinfo=ZONE))
    [replaced] = collect(world, "2026-11-12T10:00")
    assert "本表替代您 2026年11月9日 17:00 发回的测评表（以截止前收到的最后一份为准）" in replaced
    assert "不计入" not in replaced
    mail(world, SHI, {SHI_FILE: first}, "还是第一份", datetime(2026, 11, 13, 9, 0, tzinfo=ZONE))
    [same] = collect(world, "2026-11-13T10:00")
    assert "与 2026年11月9日 17:00 收到的测评表相同，未重复记录" in same
    assert "您 2026年11月12日 09:00 发回的另一份测评表晚于本表，以该表为准" in same

    late = fill(blank, [("不满意", None), ("不满意", None), ("不满意", None)])
    mail(world, SHI, {SHI_FILE: late}, "再改", datetime(2026, 11, 21, 8, 0, tzinfo=ZONE))
    [told] = collect(world, "2026-11-21T10:00")
    assert told.startswith(f"{SHI} 【已收到，逾期不计入】民主评议（2026）测评表")
    assert (
        "本表晚于测评截止时间（2026年11月20日（星期五）24:00前）送达，已留存，但不计入测评结果；"
        "您 2026年11月12日 09:00 发回的测评表仍然有效" in told
    )
    assert len(recorded(world)) == 3

    with session_scope(world.engine) as session:
        ballots = ballots_of(session, CID, "public-evaluation", "2026")
    counted, aside = counted_ballots(ballots, CLOSE)
    assert [dict(b.marks) for b in counted] == [{"T08": "满意", "B09": "满意", "B17": "基本满意"}]
    assert [(a.ballot_id, a.reason) for a in aside] == [
        (ballots[0].ballot_id, "superseded"), (ballots[2].ballot_id, "late"),
    ]  # fmt: skip
    assert counted[0].category == "服务对象"


def test_an_english_campaign(english: World) -> None:
    send(english)
    told = _said(message_to(english, SHI))
    assert "Please rate the work of the 3 unit(s) listed on the attached ballot" in told
    assert "Ballots close: Friday 20 November 2026, by the end of the day" in told
    assert "Choose each unit's mark from the list: 满意, 基本满意, 不满意" in told
    files = ballots_sent(english)[SHI]
    assert list(files) == ["ballot-民主评议-施春梅.xlsx"]
    blank = files["ballot-民主评议-施春梅.xlsx"]
    filled = fill(blank, [("满意", None), ("good", None), (None, None)], sheet="Ballot")
    mail(english, SHI, {"ballot.xlsx": filled}, "Re: ballot", ON_TIME)
    [answer] = english.collect(COLLECT_AT)
    assert answer.startswith(f"{SHI} [Recorded] 民主评议 (2026) ballot: 2 of 3 units marked")
    assert 'These marks are not on the scale and will not count: - 市公安局: "good"' in answer
    changed = fill(blank, [("满意", None)], sheet="Ballot", cells={"B3": "某某单位"})
    mail(english, SHI, {"ballot.xlsx": changed}, "Re: ballot", ON_TIME)
    [refused] = english.collect(COLLECT_AT)
    assert refused.startswith(f"{SHI} [Not recorded] Ballot to correct (民主评议 2026)")
    assert "1) Ballot!B3: the unit rated should read “西城街道”; do not change the units" in refused


def test_a_numeric_ballot_keeps_each_mark_as_written(example_bundle: CampaignBundle) -> None:
    """On a 0-100 scale: a number as plain digits; one above 100, or a word, recorded as
    written and spoiled, never a refusal."""
    source = example_bundle.campaign.scoring.source("public-evaluation")
    source = source.model_copy(update={"ballots": BallotSpec(scale="0-100")})
    shi = next(e for e in example_bundle.evaluators if e.id == "E15")
    blank = BallotBuilder(example_bundle, source, "2026", CLOSE, SECRET.encode()).workbook(shi)
    data = fill(blank, [(92.5, "服务好"), (105, None), ("很好", None)])
    with WorkbookReader(1) as reader:
        parsed = reader.read(data, sniff(data, SHI_FILE))
    rated = shi.rated(example_bundle.units)
    form = ballot_form(source, len(rated), "zh-CN")
    reading = read_ballot(form, source.ballot_spec, rated, parsed.sheets, version="1")
    assert reading.problems == ()
    assert reading.marks == {"T08": "92.5", "B09": "105", "B17": "很好"}
    assert reading.spoiled == {"B09": "105", "B17": "很好"}
    assert reading.comments == {"T08": "服务好"}
