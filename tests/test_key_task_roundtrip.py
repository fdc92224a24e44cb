"""Key tasks reported in two steps (issue 21: 牵头汇总、配合报送), end to end: the partners'
notices and the lead's go out over SMTP, the units' replies come back through a real IMAP
mailbox (dovecot), on SQLite and PostgreSQL.

The example's 提速增效 task (lead B17) is given a third partner, B18, which also partners
another lead's task (执行力强化, lead B20). The first quarter: the partners' parts are due 18
March, the lead's report 25 March. B02 reports on time; B16 reports, then sends a correction;
B18 reports late. The lead's template then holds exactly the parts accepted (B16's corrected
rows, B18's row about 提速增效 and not its other task), locked, with B17's own row to fill;
its reply is accepted and the summary workbook shows each partner's rows under its name.
A lead that drops or changes a partner's row, a partner writing about another task, and each
unit using the other's template are refused or held with the reason."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.clock import FixedClock
from duban.compile.outputs import compile_outputs
from duban.implement.chase import chase
from duban.implement.leadcopy import LeadDuty, Part
from duban.implement.remind import RemindRequest, remind
from duban.ledger.db import session_scope
from duban.ledger.schema import InstanceRow, IntakeFileRow, SubmissionRow
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.loader import load_campaign
from duban.testing.helpers import attachment_of, reply_to_notice
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .test_campaign_file import replace_in
from .test_collect import ENV, SECRET, World, imap, make_world  # noqa: F401  (imap: fixture)

SHEET = "进展情况"
EFFICIENCY = "创新服务举措，推进提速增效工程"
EXECUTION = "规范行政行为，推进执行力强化工程"
ON_TIME = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
CORRECTED = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
LATE = datetime(2026, 3, 19, 2, 0, tzinfo=UTC)  # after the parts' due day (18 March)
COLLECTED = datetime(2026, 3, 19, 3, 0, tzinfo=UTC)
LEAD_NOTIFIED = datetime(2026, 3, 19, 4, 0, tzinfo=UTC)
LEAD_REPLIED = datetime(2026, 3, 23, 2, 0, tzinfo=UTC)
LEAD_COLLECTED = datetime(2026, 3, 23, 3, 0, tzinfo=UTC)


@pytest.fixture
def chain(
    imap: LocalImapServer,  # noqa: F811
    example_copy: Path,
    tmp_path: Path,
    ledger_url: str,
) -> Iterator[World]:
    """The partners' notices of the first quarter sent; nothing received yet."""
    replace_in(example_copy, "partners: [B02, B16]", "partners: [B02, B16, B18]")
    bundle = load_campaign(example_copy)
    with make_world(imap, bundle, tmp_path, ledger_url, "progress-parts", SHEET) as world:
        yield world


def part(share: str, percent: int = 60) -> list[Any]:
    """A partner's row after the locked task title: its share of the work."""
    return [share, percent, "无", "继续推进", "李四", "13800000000"]


def rows_of(data: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(data))[SHEET]
    found = sheet.iter_rows(min_row=3, values_only=True)
    return [r for r in found if any(v is not None for v in r)]


def filled(data: bytes, rows: dict[int, list[Any]], first_column: int = 2) -> bytes:
    """The template with these sheet rows written from ``first_column`` on, as a unit would."""
    book = load_workbook(io.BytesIO(data))
    ws = book[SHEET]
    for number, values in rows.items():
        for offset, value in enumerate(values):
            ws.cell(number, first_column + offset, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reply(world: World, notice: EmailMessage, unit_id: str, data: bytes, when: datetime) -> None:
    name, _ = attachment_of(notice)
    sender = world.bundle.units_by_id[unit_id].emails[0]
    world.deliver(reply_to_notice(notice, sender, [(name, data)], when=when), when)


def lead_notice(world: World) -> EmailMessage:
    clock = FixedClock(LEAD_NOTIFIED)
    with LocalSmtpServer() as outgoing, session_scope(world.engine) as session:
        request = NoticeRequest("progress", "2026-Q1", ("B17",))
        plan = plan_notices(session, world.bundle, request, clock=clock, secret=SECRET, env=ENV)
        with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
            send_notices(session, world.bundle, plan.instance_ids, mailer=mailer, clock=clock,
                         secret=SECRET, env=ENV)  # fmt: skip
        [delivery] = outgoing.messages
    message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def outcomes(world: World) -> list[tuple[str | None, str, str | None]]:
    with session_scope(world.engine) as session:
        query = select(IntakeFileRow.unit_id, IntakeFileRow.outcome, IntakeFileRow.reason)
        return [tuple(r) for r in session.execute(query.order_by(IntakeFileRow.id))]


def problems(world: World) -> list[str]:
    with session_scope(world.engine) as session:
        last = session.scalars(select(IntakeFileRow).order_by(IntakeFileRow.id.desc())).first()
        assert last is not None
        return [f"{p['sheet']}!{p['cell']}: {p['detail']['zh']}" for p in last.problems or []]


def accepted(world: World, deliverable: str, unit_id: str) -> list[int]:
    with session_scope(world.engine) as session:
        query = (select(SubmissionRow.version)
                 .join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
                 .where(InstanceRow.deliverable_id == deliverable, InstanceRow.unit_id == unit_id)
                 .order_by(SubmissionRow.version))  # fmt: skip
        return list(session.scalars(query))


def test_partners_report_to_the_lead_and_the_lead_to_the_office(
    chain: World, tmp_path: Path
) -> None:
    notices = chain.notices
    assert sorted(notices) == ["B02", "B04", "B05", "B07", "B10", "B14", "B16", "B18"]
    b18 = attachment_of(notices["B18"])[1]
    assert [r[0] for r in rows_of(b18)] == [EFFICIENCY, EXECUTION]  # its two tasks, in order
    sheet = load_workbook(io.BytesIO(b18))[SHEET]
    assert sheet["A3"].protection.locked
    assert not sheet["B3"].protection.locked

    b02 = attachment_of(notices["B02"])[1]
    reply(chain, notices["B02"], "B02", filled(b02, {3: part("B02：窗口延时服务")}), ON_TIME)
    b16 = attachment_of(notices["B16"])[1]
    reply(chain, notices["B16"], "B16", filled(b16, {3: part("B16：初稿", 10)}), ON_TIME)
    reply(chain, notices["B16"], "B16", filled(b16, {3: part("B16：更正后", 40)}), CORRECTED)
    # B18 writes about a task it does not partner: refused, naming the cell and its tasks
    wrong = filled(b18, {3: part("B18：提速"), 4: part("B18：执行")})
    wrong = filled(wrong, {4: ["推进营商环境"]}, first_column=1)
    reply(chain, notices["B18"], "B18", wrong, ON_TIME)
    chain.collect(clock_at=CORRECTED)
    assert problems(chain) == [
        f"{SHEET}!A4: “推进营商环境”不是本单位配合的重点工作（应为：{EFFICIENCY}、{EXECUTION}）",
        f"{SHEET}!A5: 缺少重点工作“{EXECUTION}”的行：请填写本单位承担的部分",
    ]
    reply(chain, notices["B18"], "B18",
          filled(b18, {3: part("B18：提速"), 4: part("B18：执行")}), LATE)  # fmt: skip
    chain.collect(clock_at=COLLECTED)
    assert accepted(chain, "progress-parts", "B16") == [1, 2]
    assert accepted(chain, "progress-parts", "B18") == [1]

    notice = lead_notice(chain)
    template = attachment_of(notice)[1]
    rest = ("无", "继续推进", "李四", "13800000000")
    assert rows_of(template) == [
        (EFFICIENCY, "市政府办公室", "B02：窗口延时服务", 60, *rest),
        (EFFICIENCY, "市市场监督管理局", "B16：更正后", 40, *rest),
        (EFFICIENCY, "市信访局", "B18：提速", 60, *rest),
        (EFFICIENCY, None, None, None, None, None, None, None),
    ]  # fmt: skip
    sheet = load_workbook(io.BytesIO(template))[SHEET]
    assert all(sheet.cell(5, c).protection.locked for c in range(1, 9))  # a partner's row
    assert sheet["A6"].protection.locked
    assert sheet["B6"].protection.locked
    assert not sheet["C6"].protection.locked  # the lead's own share

    # the lead drops B16's row: refused, naming the partner
    dropped = load_workbook(io.BytesIO(filled(template, {6: part("B17：总体推进", 70)}, 3)))
    dropped[SHEET].delete_rows(4)
    out = io.BytesIO()
    dropped.save(out)
    reply(chain, notice, "B17", out.getvalue(), LEAD_REPLIED)
    chain.collect(clock_at=LEAD_COLLECTED)
    assert problems(chain) == [
        f"{SHEET}!A6: 配合单位“市市场监督管理局”报送的行被删除或改动："
        "请保留预填的行，不要修改（如需更正请配合单位重新报送）"
    ]
    assert accepted(chain, "progress", "B17") == []

    reply(chain, notice, "B17", filled(template, {6: part("B17：总体推进", 70)}, 3), LEAD_REPLIED)
    chain.collect(clock_at=LEAD_COLLECTED)
    assert accepted(chain, "progress", "B17") == [1]

    as_of = datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
    compiled = compile_outputs(chain.engine, chain.bundle, "progress", "2026-Q1", as_of=as_of,
                               out=tmp_path / "out", env=ENV, clock=FixedClock(as_of))  # fmt: skip
    detail = list(load_workbook(compiled.workbook)["明细"].iter_rows(values_only=True))
    reported, share = detail[0].index("报送单位"), detail[0].index("本季度进展")
    assert [(r[reported], r[share]) for r in detail[1:] if r[share]] == [
        ("市政府办公室", "B02：窗口延时服务"), ("市市场监督管理局", "B16：更正后"),
        ("市信访局", "B18：提速"), (None, "B17：总体推进"),
    ]  # fmt: skip


def test_each_units_template_is_its_own(chain: World) -> None:
    """The lead sending its partner's part, or a partner the lead's report: held, saying so."""
    notices = chain.notices
    b02 = attachment_of(notices["B02"])[1]
    lead = chain.bundle.units_by_id["B17"].emails[0]
    name = attachment_of(notices["B02"])[0]
    data = filled(b02, {3: part("B17 代填")})
    chain.deliver(reply_to_notice(notices["B02"], lead, [(name, data)], when=ON_TIME), ON_TIME)
    chain.collect(clock_at=CORRECTED)
    notice = lead_notice(chain)
    template = attachment_of(notice)[1]
    partner = chain.bundle.units_by_id["B02"].emails[0]
    data = filled(template, {3: part("B02 代报", 50)}, 3)
    raw = reply_to_notice(notice, partner, [(attachment_of(notice)[0], data)], when=LEAD_REPLIED)
    chain.deliver(raw, LEAD_REPLIED)
    chain.collect(clock_at=LEAD_COLLECTED)
    assert [(o, r) for _, o, r in outcomes(chain)] == [
        ("held", "part-from-lead"), ("held", "lead-report-from-partner")]  # fmt: skip


# ------------------------------------------------------------------ the lead's copies, chased

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def chase_at(world: World, when: datetime) -> list[EmailMessage]:
    """The daily chase run at ``when``: what it mailed, as each recipient got it."""
    clock = FixedClock(when)
    with LocalSmtpServer() as outgoing, session_scope(world.engine) as session:
        with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
            chase(session, world.bundle, as_of=when, mailer=mailer, env=ENV, secret=SECRET,
                  clock=clock)  # fmt: skip
        sent = [email.message_from_bytes(d.raw, policy=email.policy.default)
                for d in outgoing.messages]  # fmt: skip
    return [m for m in sent if isinstance(m, EmailMessage)]


def remind_at(world: World, when: datetime) -> list[EmailMessage]:
    """``duban remind --deliverable progress --unit B17`` at ``when``: what it mailed."""
    with LocalSmtpServer() as outgoing, session_scope(world.engine) as session:
        with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
            remind(session, world.bundle, RemindRequest("progress", "2026-Q1", ("B17",)),
                   mailer=mailer, clock=FixedClock(when), env=ENV, secret=SECRET)  # fmt: skip
        sent = [email.message_from_bytes(d.raw, policy=email.policy.default)
                for d in outgoing.messages]  # fmt: skip
    return [m for m in sent if isinstance(m, EmailMessage)]


def to_lead(messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages if "shenpi@jt.example" in str(m["To"])]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_the_lead_is_sent_its_partners_parts_once_each_change(chain: World) -> None:
    notices = chain.notices
    for unit_id, share in (("B02", "B02：窗口延时服务"), ("B16", "B16：初稿")):
        data = attachment_of(notices[unit_id])[1]
        reply(chain, notices[unit_id], unit_id, filled(data, {3: part(share)}), ON_TIME)
    chain.collect(clock_at=ON_TIME)
    assert to_lead(chase_at(chain, local(17, 9, 30))) == []  # the parts are due tomorrow

    [copy] = to_lead(chase_at(chain, local(19, 9, 30)))  # the day after: B18 is late
    assert copy["Subject"] == ("【汇总】《重点工作季度进展》（2026-Q1）配合单位报送情况及汇总模板"
                               "（市行政审批局）")  # fmt: skip
    text = body(copy)
    assert f"已报送的配合单位：\n  市政府办公室（{EFFICIENCY}）\n  市市场监督管理局" in text
    late = "逾期未报送的配合单位（应于2026年3月18日（星期三）24:00前报送）："
    assert f"{late}\n  市信访局（{EFFICIENCY}）" in text
    assert "请补充本单位情况后于2026年3月25日（星期三）24:00前报送" in text
    assert [r[2] for r in rows_of(attachment_of(copy)[1])] == [
        "B02：窗口延时服务",
        "B16：初稿",
        None,
    ]
    assert to_lead(chase_at(chain, local(19, 10))) == []  # the same parts: not again

    [reminder] = to_lead(chase_at(chain, local(20, 9, 30)))  # the lead's own reminder
    assert "配合单位市信访局的部分逾期未报送，请督促其尽快报送" in body(reminder)
    [asked] = to_lead(remind_at(chain, local(20, 15)))  # and the coordinator's `duban remind`
    assert "配合单位市信访局的部分逾期未报送，请督促其尽快报送" in body(asked)

    b18 = attachment_of(notices["B18"])[1]
    both = filled(b18, {3: part("B18：提速"), 4: part("B18：执行")})
    reply(chain, notices["B18"], "B18", both, local(23, 9))
    chain.collect(clock_at=local(23, 9, 10))
    [fresh] = to_lead(chase_at(chain, local(23, 9, 30)))
    assert "逾期未报送" not in body(fresh)
    template = attachment_of(fresh)[1]
    assert [r[2] for r in rows_of(template)] == [
        "B02：窗口延时服务",
        "B16：初稿",
        "B18：提速",
        None,
    ]
    reply(chain, fresh, "B17", filled(template, {6: part("B17：总体推进", 70)}, 3), local(23, 11))
    chain.collect(clock_at=local(23, 11, 10))
    assert accepted(chain, "progress", "B17") == [1]
    assert to_lead(chase_at(chain, local(24, 9, 30))) == []  # reported: nothing new

    data = attachment_of(notices["B16"])[1]
    reply(chain, notices["B16"], "B16", filled(data, {3: part("B16：更正后", 40)}), local(24, 10))
    chain.collect(clock_at=local(24, 10, 10))
    [updated] = to_lead(chase_at(chain, local(25, 9, 30)))
    assert updated["Subject"].startswith("【更新】")
    assert "请核对后重新报送" in body(updated)
    assert [r[2] for r in rows_of(attachment_of(updated)[1])][:3] == [
        "B02：窗口延时服务", "B16：更正后", "B18：提速"]  # fmt: skip


def test_when_a_lead_copy_is_due() -> None:
    """Pure: the partners' due day (18 March) or every part in; none of an old period that
    nobody answered; after the lead's report, only for a part accepted since."""
    lead_due, parts_due = local(26, 0), local(19, 0)  # the ends of 25 and 18 March
    lead = InstanceRow(id=1, deliverable_id="progress", unit_id="B17", period="2026-Q1",
                       due_at=lead_due, extended_to=None)  # fmt: skip

    def duty(*parts: tuple[datetime | None, datetime | None], reported: datetime | None = None
             ) -> LeadDuty:  # fmt: skip
        made = tuple(Part(f"P{n}", parts_due, first, last) for n, (first, last) in enumerate(parts))
        return LeadDuty(lead, made, reported)

    none, early = (None, None), (local(16, 10), local(16, 10))
    assert not duty(early, none).due_now(local(18, 9))  # before the partners' due day
    assert duty(early, early).due_now(local(18, 9))  # every part in
    assert duty(early, none).due_now(local(19, 9))  # the partners' due day has passed
    assert duty(none, none).due_now(local(19, 9))  # nothing in: the lead told whom to press
    assert not duty(none, none).due_now(local(27, 9))  # nothing in, the lead's day gone
    assert duty(early, none).due_now(local(27, 9))  # a part in: still worth a copy
    reported = local(20, 10)
    assert not duty(early, early, reported=reported).due_now(local(23, 9))
    assert duty(early, (early[0], local(21, 10)), reported=reported).due_now(local(23, 9))
