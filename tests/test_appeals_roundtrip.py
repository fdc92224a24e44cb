"""Appeals by reply (issue 17 item 5) on a real ledger, SQLite and PostgreSQL, over the loopback
SMTP server and dovecot: the example campaign's evaluation computed and published (the
``evaluation.published`` event appended here, as ``duban evaluate publish`` records it), a
unit's signed appeal form filled and mailed back through intake. Each row with reasons is one
appeal against its line, received when the message was, and the unit is told what was
recorded; two lines are two appeals; the same file twice records once; a form from another
address is held naming the unit's; after the close, with nothing filled, once frozen or with a
pre-filled cell changed, the form is refused and the unit told why. An appeal form's token
never verifies as the unit's template, a ballot or a scoresheet."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from typer.testing import CliRunner

from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.token import (
    AppealIdentity,
    BallotIdentity,
    ScoresheetIdentity,
    TemplateIdentity,
    sign,
    verify,
)
from duban.cli.app import app
from duban.evaluate import commands, runs
from duban.evaluate.appealsheets import AppealFormBuilder, lines_of
from duban.evaluate.publication import (
    PUBLISHED_EVENT,
    Publication,
    appeals_close,
    evaluation_subject,
    publication,
)
from duban.evaluate.report import EvaluationReport, version_report
from duban.implement.intake.decide import Outcome, UnitAppeal, Verdict, identify
from duban.ledger.schema import AppealRow, IntakeFileRow
from duban.ledger.store import append_event
from duban.model.appealsheets import APPEAL_KEYS
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle

from . import test_collect, test_inspection_results
from .conftest import EXAMPLE
from .test_inspection_results import SECRET, World, file_outcomes, mail

imap, smtp = test_collect.imap, test_inspection_results.smtp
world, english = test_inspection_results.world, test_inspection_results.english

runner = CliRunner()
CID, LABEL = "nlzf-2026", "2026"
ZONE = ZoneInfo("Asia/Shanghai")
CLOSES = datetime(2026, 11, 20, 18, 0, tzinfo=ZONE)
COMPUTE_AT = "2026-11-23T09:00"
PUBLISHED = datetime(2026, 11, 24, 9, 0, tzinfo=ZONE)
APPEALS_CLOSE = datetime(2026, 12, 2, tzinfo=ZONE)
"""Five working days after Tuesday 24 November (scoring.appeal_days): the end of 1 December."""
SENT = datetime(2026, 11, 26, 10, 30, tzinfo=ZONE)
COLLECT_AT = "2026-11-26T11:00"
"""Every date here is before the machine's own: a message appended with a later date was
seen received at the machine's time (dovecot), which no assertion can hold."""
JIN = "jinchengzhen@jt.example"
"""T01 金城镇, the unit appealing."""
JIN_FILE = "复核申请表-金城镇.xlsx"
REASONS = APPEAL_KEYS.index("reasons") + 1


def compute_and_publish(world: World, published_at: datetime = PUBLISHED) -> Publication:
    """The evaluation computed, then its publication recorded as ``publish`` records it."""
    with world.runtime(COMPUTE_AT) as rt:
        computed = commands.compute(rt, LABEL, closes_at=CLOSES)
        with rt.session() as session:
            record_publication(session, rt, computed.row.version, published_at)
            found = publication(session, CID, LABEL)
    assert found is not None
    return found


def record_publication(session: Any, rt: Any, version: int, published_at: datetime) -> None:
    close = appeals_close(rt.bundle, published_at)
    append_event(session, rt.clock, PUBLISHED_EVENT, campaign_id=CID,
                 subject=evaluation_subject(LABEL), actor="coordinator",
                 payload={"version": version, "published_at": published_at.isoformat(),
                          "appeals_close": close.isoformat()})  # fmt: skip


def report_of(world: World) -> tuple[CampaignBundle, EvaluationReport]:
    with world.runtime(COMPUTE_AT) as rt, rt.session() as session:
        row = runs.latest_or_fail(session, CID, LABEL)
        return rt.bundle, version_report(rt.bundle, row, runs.recomputed(rt.bundle, row))


def blank_form(world: World, unit_id: str = "T01") -> bytes:
    bundle, report = report_of(world)
    builder = AppealFormBuilder(bundle, LABEL, APPEALS_CLOSE, SECRET.encode())
    assert builder.attachment_name(bundle.unit(unit_id)) == JIN_FILE
    return builder.workbook(report, unit_id)


def fill(
    data: bytes,
    reasons: dict[int, str],
    *,
    sheet: str = "复核申请表",
    cells: dict[str, Any] | None = None,
) -> bytes:
    """The unit's copy with ``reasons`` by line number, and ``cells`` set (to tamper with the
    pre-filled lines), saved as Excel would (openpyxl)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[sheet]
    assert isinstance(ws, Worksheet)
    ws.protection.sheet = False
    for line, text in reasons.items():
        ws.cell(FIRST_DATA_ROW + line - 1, REASONS, text)
    for cell, value in (cells or {}).items():
        ws[cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def appeals(world: World) -> list[tuple[str, str, str, datetime, str]]:
    query = select(AppealRow.unit_id, AppealRow.line, AppealRow.statement,
                   AppealRow.received_at, AppealRow.state).order_by(AppealRow.id)  # fmt: skip
    return world.rows(query)


def only(messages: Sequence[str]) -> str:
    [message] = messages
    return message


# --------------------------------------------------------------------------- the form


def test_the_form_lists_the_units_lines_locked(world: World) -> None:
    published = compute_and_publish(world)
    assert published.appeals_close == APPEALS_CLOSE
    data = blank_form(world)
    _, report = report_of(world)
    lines = lines_of(report, "T01")
    meta = read_metadata(data)
    assert (meta["kind"], meta["label"], meta["unit_id"]) == ("appeal", LABEL, "T01")
    assert verify(SECRET.encode(), AppealIdentity(CID, LABEL, "T01"), meta["token"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["复核申请表"]
    assert isinstance(ws, Worksheet)
    assert "在该行“复核理由”栏写明理由；无异议的行请留空" in str(ws["A1"].value)
    assert [c.value for c in ws[2]][:4] == ["序号", "考核项目", "得分说明", "复核理由"]
    first = [c.value for c in ws[FIRST_DATA_ROW]][:4]
    assert first == [1, lines[0][0], lines[0][1], None]
    assert ws.cell(FIRST_DATA_ROW, 3).protection.locked
    assert not ws.cell(FIRST_DATA_ROW, REASONS).protection.locked
    assert ws.cell(FIRST_DATA_ROW + len(lines) - 1, 1).value == len(lines)
    said = " ".join(str(c.value) for row in book["填报说明"].iter_rows() for c in row)
    assert "2026年12月1日（星期二）24:00前" in said


def test_an_appeal_forms_token_is_nothing_else(example_bundle: CampaignBundle) -> None:
    """Signed for T01's appeal, the token verifies as no template, ballot or scoresheet with
    the same fields; the form's metadata without its kind is held as a bad token."""
    key = SECRET.encode()
    token = sign(key, AppealIdentity(CID, LABEL, "T01"))
    assert verify(key, AppealIdentity(CID, LABEL, "T01"), token)
    assert not verify(key, AppealIdentity(CID, LABEL, "T02"), token)
    assert not verify(key, AppealIdentity(CID, "2027", "T01"), token)
    assert not verify(key, TemplateIdentity(CID, f"appeal:{LABEL}", LABEL, "T01", 1), token)
    assert not verify(key, BallotIdentity(CID, "public-evaluation", LABEL, "T01"), token)
    assert not verify(key, ScoresheetIdentity(CID, "appeal", LABEL, "T01"), token)
    meta = {"campaign": CID, "deliverable": f"appeal:{LABEL}", "period": LABEL,
            "unit_id": "T01", "template_version": "1", "token": token}  # fmt: skip
    assert identify(meta, JIN, example_bundle, key) == Verdict(Outcome.HELD, "bad-token")
    as_ballot = {**meta, "kind": "ballot", "source": "public-evaluation", "round": LABEL}
    held = identify(as_ballot, JIN, example_bundle, key)
    assert isinstance(held, Verdict)
    assert held.outcome is Outcome.HELD
    found = identify({**meta, "kind": "appeal", "label": LABEL}, JIN, example_bundle, key)
    assert isinstance(found, UnitAppeal)
    assert found.unit.id == "T01"


# --------------------------------------------------------------------------- returns


def test_appeals_come_back_through_intake(world: World) -> None:
    """Two lines disputed are two appeals, received when the message was, and the unit is
    told; the same file again records once; from another address the form is held."""
    compute_and_publish(world)
    blank = blank_form(world)
    _, report = report_of(world)
    lines = lines_of(report, "T01")
    part3, part8 = lines[2][0], lines[7][0]
    filled = fill(blank, {3: "该项材料已于3月4日报送，附回执", 8: "5月曾接受督查，见督查通报"})

    mail(world, "someone@else.example", {JIN_FILE: filled}, "复核申请", SENT)
    assert world.collect(COLLECT_AT) == []  # held: no answer
    assert file_outcomes(world) == [("someone@else.example", "held", "appeal-wrong-sender")]
    assert appeals(world) == []
    review = runner.invoke(app, ["review", str(EXAMPLE)], env={
        "DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "zh-CN",
        "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "400"})  # fmt: skip
    said = ("附件是“金城镇”的复核申请表，但发件人 someone@else.example 不是该单位登记的邮箱"
            "（jinchengzhen@jt.example），复核申请未记录")  # fmt: skip
    assert said in review.output

    mail(world, JIN, {JIN_FILE: filled}, "回复：考核结果复核申请", SENT)
    answer = only(world.collect(COLLECT_AT))
    assert answer.startswith(f"{JIN} 【已收到】考核结果（2026）复核申请：2 项 金城镇：")
    assert appeals(world) == [
        ("T01", f"3. {part3}", "该项材料已于3月4日报送，附回执", SENT, "open"),
        ("T01", f"8. {part8}", "5月曾接受督查，见督查通报", SENT, "open"),
    ]
    ids = world.rows(select(AppealRow.id).order_by(AppealRow.id))
    first, second = (f"A{i}" for (i,) in ids)
    stored = select(IntakeFileRow.sha256).join(
        AppealRow, AppealRow.intake_file_id == IntakeFileRow.id
    )
    assert world.rows(stored) == [(hashlib.sha256(filled).hexdigest(),)] * 2  # the unit's bytes
    assert f"{first}（3. {part3}）：已登记。理由：该项材料已于3月4日报送，附回执" in answer
    assert f"{second}（8. {part8}）：已登记。" in answer
    assert "市优化办将逐项审核并将结果告知你单位" in answer

    mail(world, JIN, {"复核.xlsx": filled}, "再发一次", SENT)
    again = only(world.collect(COLLECT_AT))
    assert f"{first}（3. {part3}）：此前已登记，不重复登记" in again
    assert len(appeals(world)) == 2


def test_a_held_form_accepted_in_review(world: World) -> None:
    """The coordinator vouches for a form the unit sent from another address: its appeals
    are lodged as if from the unit's own, received when the message was; twice is once."""
    compute_and_publish(world)
    filled = fill(blank_form(world), {3: "该项材料已于3月4日报送，附回执"})
    mail(world, "jinchengzhen.staff@personal.example", {JIN_FILE: filled}, "复核申请", SENT)
    assert world.collect(COLLECT_AT) == []
    assert appeals(world) == []
    [(held,)] = world.rows(select(IntakeFileRow.id).where(IntakeFileRow.outcome == "held"))
    env = {"DUBAN_DATABASE_URL": world.url, "DUBAN_HOME": str(world.home), "DUBAN_LANG": "zh-CN",
           "DUBAN_NOW": COLLECT_AT, "DUBAN_SECRET": SECRET, "COLUMNS": "200"}  # fmt: skip
    done = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}", "--by", "市优化办"],
                         env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"F{held}：已接收（复核申请已记录）"
    [(unit, line, statement, received, state)] = appeals(world)
    assert (unit, statement, received, state) == ("T01", "该项材料已于3月4日报送，附回执", SENT,
                                                  "open")  # fmt: skip
    assert line.startswith("3. ")
    again = runner.invoke(app, ["review", str(EXAMPLE), "--accept", f"F{held}"], env=env)
    assert again.output.strip() == f"F{held}：早已接收（复核申请已记录），没有变动"
    assert len(appeals(world)) == 1


def test_refused_forms_say_why(world: World) -> None:
    """Nothing filled, a pre-filled cell changed, after the close: refused and told."""
    compute_and_publish(world)
    blank = blank_form(world)

    mail(world, JIN, {JIN_FILE: fill(blank, {})}, "复核申请", SENT)
    empty = only(world.collect(COLLECT_AT))
    assert empty.startswith(f"{JIN} 【未记录】复核申请未受理（2026） 金城镇：")
    assert "请在有异议的得分说明所在行的“复核理由”栏写明理由" in empty

    changed = fill(blank, {2: "有异议"}, cells={"C5": "全部按时报送"})
    mail(world, JIN, {JIN_FILE: changed}, "复核申请", SENT)
    refused = only(world.collect(COLLECT_AT))
    assert "复核申请表有 1 处问题，未记录" in refused
    assert "1) 复核申请表!C5: 第 3 行得分说明已被改动，请勿修改预填的得分说明" in refused

    late = datetime(2026, 12, 2, 9, 0, tzinfo=ZONE)
    mail(world, JIN, {JIN_FILE: fill(blank, {3: "有异议"})}, "复核申请", late)
    told = only(world.collect("2026-12-02T10:00"))
    assert "复核申请截止时间为2026年12月1日（星期二）24:00前，本表送达时已过截止时间" in told
    assert appeals(world) == []
    outcomes = [o[1:] for o in file_outcomes(world)]
    assert outcomes == [("rejected", "appeal-empty"), ("rejected", "appeal-refused"),
                        ("rejected", "appeal-late")]  # fmt: skip


def test_a_frozen_evaluation_takes_no_appeal(world: World) -> None:
    compute_and_publish(world)
    blank = blank_form(world)
    with world.runtime("2026-11-25T09:00") as rt:
        assert commands.freeze(rt, LABEL) == (1, True)
    mail(world, JIN, {JIN_FILE: fill(blank, {3: "有异议"})}, "复核申请", SENT)
    told = only(world.collect(COLLECT_AT))
    assert "考核“2026”已于第 1 版定稿，复核申请已截止，本表未记录" in told
    assert file_outcomes(world)[0][1:] == ("rejected", "appeal-frozen")
    assert appeals(world) == []


def test_before_publication_the_form_is_held(world: World) -> None:
    with world.runtime(COMPUTE_AT) as rt:
        commands.compute(rt, LABEL, closes_at=CLOSES)
    blank = blank_form(world)
    mail(world, JIN, {JIN_FILE: fill(blank, {3: "有异议"})}, "复核申请", SENT)
    assert world.collect(COLLECT_AT) == []
    assert file_outcomes(world) == [(JIN, "held", "appeal-not-published")]


def test_an_english_campaign(english: World) -> None:
    compute_and_publish(english)
    bundle, report = report_of(english)
    builder = AppealFormBuilder(bundle, LABEL, APPEALS_CLOSE, SECRET.encode())
    assert builder.attachment_name(bundle.unit("T01")) == "appeal-金城镇.xlsx"
    blank = builder.workbook(report, "T01")
    part = lines_of(report, "T01")[0][0]
    filled = fill(blank, {1: "We reported on time"}, sheet="Appeal")
    mail(english, JIN, {"appeal.xlsx": filled}, "Re: appeal", SENT)
    answer = only(english.collect(COLLECT_AT))
    assert answer.startswith(f"{JIN} [Received] Appeal against the evaluation (2026): 1 line(s)")
    assert f"(1. {part}): recorded. Reasons: We reported on time" in answer
    empty = fill(blank, {}, sheet="Appeal")
    mail(english, JIN, {"appeal.xlsx": empty}, "Re: appeal", SENT)
    refused = only(english.collect(COLLECT_AT))
    assert "write your reasons in the Reasons column next to the line you dispute" in refused
    late = datetime(2026, 12, 2, 9, 0, tzinfo=ZONE)
    mail(english, JIN, {"appeal.xlsx": filled}, "Re: appeal", late)
    told = only(english.collect("2026-12-02T10:00"))
    assert told.startswith(f"{JIN} [Not recorded] Appeal not taken (2026)")
    assert (
        "appeals had to arrive by the close (Tuesday 1 December 2026, by the end of the day "
        "(Asia/Shanghai time)); "
        "this form came after it and was not recorded" in told
    )


# --------------------------------------------------------------------------- the whole chain


def test_a_published_form_comes_back_and_the_corrected_one_too(world: World) -> None:
    """The form as ``duban evaluate publish`` mails it, filled and returned, is an appeal;
    upheld, the unit is told, and publishing again sends it the corrected sheet and a form of
    the new version, which intake reads against that version's lines."""
    with world.runtime(COMPUTE_AT) as rt:
        commands.compute(rt, LABEL, closes_at=CLOSES)
    before = len(world.smtp.messages)
    with world.runtime("2026-11-24T09:00") as rt:
        commands.publish(rt, LABEL)
    first = _form_sent(world, before)
    mail(world, JIN, {JIN_FILE: fill(first, {1: "三月报告已按时报送"})}, "复核申请", SENT)
    answer = only(world.collect(COLLECT_AT))
    assert "复核申请：1 项" in answer
    [(unit, line, _, _, state)] = appeals(world)
    assert (unit, state) == ("T01", "open")
    assert line.startswith("1. ")
    with world.runtime("2026-11-27T09:00") as rt:
        [appeal_id] = world.rows(select(AppealRow.id))
        fix = ("timeliness", Decimal(1))
        decided = commands.decide(rt, appeal_id, "经核实属实", correction=fix, label=LABEL)
        assert decided.told
        before = len(world.smtp.messages)
        again = commands.publish(rt, LABEL)
    assert again.version == decided.version == 2
    second = _form_sent(world, before)
    assert second != first
    mail(world, JIN, {JIN_FILE: fill(second, {2: "第二项也有异议"})}, "再次申请",
         datetime(2026, 11, 27, 10, 0, tzinfo=ZONE))  # fmt: skip
    assert "复核申请：1 项" in only(world.collect("2026-11-27T11:00"))
    assert len(appeals(world)) == 2
    assert appeals(world)[1][1].startswith("2. ")


def _form_sent(world: World, since: int) -> bytes:
    """金城镇's appeal form in the messages sent since ``since``."""
    import email
    import email.policy

    for delivery in world.smtp.messages[since:]:
        parsed = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        for part in parsed.iter_attachments():
            if part.get_filename() == JIN_FILE:
                data = part.get_content()
                assert isinstance(data, bytes)
                return data
    raise AssertionError("no appeal form was sent to 金城镇")
