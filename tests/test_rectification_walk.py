"""The acceptance test of issue 15: three months of the self-check phase on the example campaign,
driven as the coordinator drives it (the use cases the CLI calls, each with a ``Runtime`` built
from settings at its simulated moment), over a real SMTP server and a real IMAP mailbox
(dovecot), on SQLite and PostgreSQL.

September: the self-check notice goes out and three units reply with their problem lists,
which become items. October: the September progress report goes out, each unit's template
listing exactly its open items; one unit claims two items, one reports progress, one deletes a
row; the coordinator closes one claim and returns the other; a chase on the day two items are
overdue sends each unit one message at most, naming its item. November: the October report
goes out without the closed item and with the returned one; units claim again and the
coordinator closes. Every item's history is then compared with the table below."""

from __future__ import annotations

import email
import email.policy
import imaplib
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from duban.implement.commands import chase, collect
from duban.ledger.store import register
from duban.mobilize.commands import mobilize
from duban.mobilize.send import NoticeRequest
from duban.model.loader import load_campaign
from duban.runtime import Runtime
from duban.selfcheck.commands import verify
from duban.selfcheck.ledger import history, list_items
from duban.selfcheck.states import Action, Move
from duban.settings import load_settings
from duban.testing.helpers import attachment_of, fill_workbook, reply_to_notice
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE
from .test_collect import PASSWORD, SECRET, USER, _empty_mailbox, imap  # noqa: F401  (imap)

UNITS = ("T01", "T02", "T03")
A, B, C = UNITS
COORDINATOR = "王主任"
LISTS = "整改台账"
PROGRESS = "整改进展"
ZONE = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 9) -> datetime:
    """A moment of the campaign's day (Asia/Shanghai)."""
    return datetime.combine(day, time(hour, 0), tzinfo=ZONE)


class Office:
    """The coordinator's office: the campaign file, the ledger, the mail server duban sends
    through and the mailbox units reply to; each step a fresh ``Runtime`` at its moment, as
    each ``duban`` command with ``--as-of`` would be."""

    def __init__(
        self, home: Path, ledger_url: str, smtp: LocalSmtpServer, mailbox: LocalImapServer
    ) -> None:
        self.home, self.ledger_url, self.smtp, self.imap = home, ledger_url, smtp, mailbox
        self.units = load_campaign(EXAMPLE).units_by_id

    def runtime(self, moment: datetime) -> Runtime:
        settings = load_settings(home=self.home, database_url=self.ledger_url,
                                 now=moment.isoformat(), secret=SECRET.decode(),
                                 smtp_url=self.smtp.url(),
                                 intake=self.imap.url(USER, PASSWORD))  # fmt: skip
        return Runtime(settings, EXAMPLE)

    def init(self, moment: datetime) -> None:
        with self.runtime(moment) as rt, rt.migrated() as session:
            register(session, rt.bundle, rt.clock)

    def mobilize(self, moment: datetime, deliverable: str, period: str | None) -> dict[str, Any]:
        """Send the notices of one period to the walk's units: each unit's notice as received."""
        before = len(self.smtp.messages)
        with self.runtime(moment) as rt:
            summary = mobilize(rt, NoticeRequest(deliverable, period, UNITS))
        assert summary["status"] == "sent", summary
        found = {}
        for delivery in self.smtp.messages[before:]:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            [unit] = [u for u in UNITS if set(self.units[u].emails) == set(delivery.rcpt_tos)]
            found[unit] = message
        assert sorted(found) == list(UNITS)
        return found

    def collect(self, moment: datetime) -> None:
        with self.runtime(moment) as rt:
            collect(rt)

    def close(self, moment: datetime, code: str) -> None:
        with self.runtime(moment) as rt:
            assert not verify(rt, code, Move(Action.CLOSE, COORDINATOR)).already

    def send_back(self, moment: datetime, code: str, reason: str) -> None:
        with self.runtime(moment) as rt:
            assert not verify(rt, code, Move(Action.RETURN, COORDINATOR, reason=reason)).already

    def chase(self, moment: datetime) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """Chase as of ``moment``: what each of the walk's units received, and the summary."""
        before = len(self.smtp.messages)
        with self.runtime(moment) as rt:
            summary = chase(rt)
        return self.mail_since(before), summary

    def mail_since(self, before: int) -> dict[str, list[str]]:
        """The texts each of the walk's units received (at its own addresses) since the
        ``before``-th message the mail server took."""
        sent = self.smtp.messages[before:]
        return {u: [text_of(d.raw) for d in sent if set(self.units[u].emails) & set(d.rcpt_tos)]
                for u in UNITS}  # fmt: skip

    def reply(self, unit: str, notice: EmailMessage, data: bytes, when: datetime) -> None:
        """The unit answers its notice with ``data`` as the workbook; the office's mail server
        files the reply in the mailbox with its arrival time."""
        name, _ = attachment_of(notice)
        sender = self.units[unit].emails[0]
        raw = reply_to_notice(notice, sender, [(name, data)], when=when)
        client = imaplib.IMAP4("127.0.0.1", self.imap.port)
        client.login(USER, PASSWORD)
        client.append("INBOX", "", imaplib.Time2Internaldate(when), raw)
        client.logout()

    def items(self, moment: datetime) -> dict[str, str]:
        with self.runtime(moment) as rt, rt.session() as session:
            return {i.code: i.state for i in list_items(session, rt.bundle.campaign.id)}

    def histories(self, moment: datetime) -> dict[str, list[tuple[str, str]]]:
        """Each item's events as (kind without its prefix, the role of who made it)."""
        with self.runtime(moment) as rt, rt.session() as session:
            cid = rt.bundle.campaign.id
            return {
                i.code: [(e.kind.removeprefix("rectification."), role(e.actor))
                         for e in history(session, cid, i.code)]
                for i in list_items(session, cid)
            }  # fmt: skip


def text_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def role(actor: str) -> str:
    """Who made an event: a unit (``unit:T01``), intake recording a unit's accepted list, or
    the coordinator (by name)."""
    if actor.startswith("unit:"):
        return "unit"
    return "intake" if actor == "intake" else "coordinator"


def problem(n: int, due: str) -> list[Any]:
    return ["作风不实", f"问题{n}：会议多、调研少", f"原因{n}", f"措施{n}：压减会议",
            f"责任人{n}", f"owner{n}@example.gov.cn", due, "整改中"]  # fmt: skip


def listed(template: bytes) -> list[str]:
    """The item codes a progress template lists, in order."""
    sheet = load_workbook(io.BytesIO(template))[PROGRESS]
    return [str(r[0]) for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] is not None]


def filled(template: bytes, change: Any) -> bytes:
    """The template as a unit sends it back, after ``change(sheet)``."""
    book = load_workbook(io.BytesIO(template))
    change(book[PROGRESS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def claim(row: int, day: date, evidence: str) -> Any:
    def change(ws: Any) -> None:
        ws[f"E{row}"], ws[f"F{row}"] = "已整改", "已完成"
        ws[f"G{row}"], ws[f"H{row}"] = day, evidence

    return change


def progress(row: int, note: str) -> Any:
    def change(ws: Any) -> None:
        ws[f"E{row}"], ws[f"F{row}"] = note, "整改中"

    return change


def both(*changes: Any) -> Any:
    def change(ws: Any) -> None:
        for each in changes:
            each(ws)

    return change


@pytest.fixture
def office(
    imap: LocalImapServer,  # noqa: F811
    tmp_path: Path,
    ledger_url: str,
) -> Iterator[Office]:
    _empty_mailbox(imap)
    with LocalSmtpServer() as smtp:
        yield Office(tmp_path / "home", ledger_url, smtp, imap)


# What every item went through, by (event, who made it): written out, not derived. Items
# are created by intake when it accepts the unit's problem list.
EXPECTED = {
    f"ZG-{A}-001": [("created", "intake"), ("claimed", "unit"), ("closed", "coordinator")],
    f"ZG-{A}-002": [("created", "intake"), ("claimed", "unit"), ("returned", "coordinator"),
                    ("claimed", "unit"), ("closed", "coordinator")],
    f"ZG-{B}-001": [("created", "intake"), ("progress", "unit"), ("claimed", "unit"),
                    ("closed", "coordinator")],
    f"ZG-{B}-002": [("created", "intake"), ("progress", "unit")],
    f"ZG-{B}-003": [("created", "intake")],
    f"ZG-{C}-001": [("created", "intake")],
    f"ZG-{C}-002": [("created", "intake")],
}  # fmt: skip


def test_three_months_of_self_check_over_mail(office: Office) -> None:
    # ---- September: the notice, the lists, the items
    office.init(at(date(2026, 9, 1)))
    notices = office.mobilize(at(date(2026, 9, 1)), "self-check", None)
    lists = {A: [problem(1, "2026-11-30"), problem(2, "2026-11-30")],
             B: [problem(1, "2026-12-31"), problem(2, "2026-10-20"), problem(3, "2026-12-31")],
             C: [problem(1, "2026-10-20"), problem(2, "2026-12-31")]}  # fmt: skip
    sent = at(date(2026, 9, 10), 10)
    for unit, rows in lists.items():
        _, template = attachment_of(notices[unit])
        office.reply(unit, notices[unit], fill_workbook(template, LISTS, rows), sent)
    office.collect(at(date(2026, 9, 10), 17))
    assert office.items(at(date(2026, 9, 10), 17)) == dict.fromkeys(EXPECTED, "open")

    # ---- October: the September report, each template holding exactly the unit's open items
    notices = office.mobilize(at(date(2026, 10, 9)), "rectification", "2026-09")
    templates = {u: attachment_of(notices[u])[1] for u in UNITS}
    assert {u: listed(t) for u, t in templates.items()} == {
        A: [f"ZG-{A}-001", f"ZG-{A}-002"],
        B: [f"ZG-{B}-001", f"ZG-{B}-002", f"ZG-{B}-003"],
        C: [f"ZG-{C}-001", f"ZG-{C}-002"],
    }
    sent = at(date(2026, 10, 10), 10)
    done = date(2026, 10, 9)
    office.reply(A, notices[A], filled(templates[A], both(
        claim(3, done, "会议台账"), claim(4, done, "调研记录"))), sent)  # fmt: skip
    office.reply(B, notices[B], filled(templates[B], both(
        progress(3, "已起草制度"), progress(4, "已约谈责任人"))), sent)  # fmt: skip
    office.reply(C, notices[C], filled(templates[C], lambda ws: ws.delete_rows(3)), sent)
    before = len(office.smtp.messages)
    office.collect(at(date(2026, 10, 10), 17))
    receipts = {u: "\n".join(texts) for u, texts in office.mail_since(before).items()}
    assert f"ZG-{A}-002（第 4 行）：已登记为“已申请销号”" in receipts[A]
    assert (
        f"ZG-{C}-001（问题1：会议多、调研少）未在表中填报（该行被删除），仍为“未启动”"
        in receipts[C]
    )
    office.close(at(date(2026, 10, 12)), f"ZG-{A}-001")
    office.send_back(at(date(2026, 10, 12)), f"ZG-{A}-002", "佐证材料不足，请补充调研报告")
    assert office.items(at(date(2026, 10, 12), 17)) == {
        f"ZG-{A}-001": "closed", f"ZG-{A}-002": "in_progress",  # returned: at work again
        f"ZG-{B}-001": "in_progress", f"ZG-{B}-002": "in_progress", f"ZG-{B}-003": "open",
        f"ZG-{C}-001": "open", f"ZG-{C}-002": "open",
    }  # fmt: skip

    # B-002 and C-001 were due on 20 October: the overdue notice falls the next working day,
    # in one message a unit, naming the unit's overdue item; chasing again sends nothing more
    chased, summary = office.chase(at(date(2026, 10, 21), 10))
    assert {u: len(texts) for u, texts in chased.items()} == {A: 0, B: 1, C: 1}
    assert f"ZG-{B}-002" in chased[B][0]
    assert f"ZG-{C}-001" in chased[C][0]
    assert summary["items_named"] == 2
    again, _ = office.chase(at(date(2026, 10, 21), 15))
    assert again == {A: [], B: [], C: []}

    # ---- November: the October report, without the closed item and with the returned one
    notices = office.mobilize(at(date(2026, 11, 2)), "rectification", "2026-10")
    templates = {u: attachment_of(notices[u])[1] for u in UNITS}
    assert {u: listed(t) for u, t in templates.items()} == {
        A: [f"ZG-{A}-002"],
        B: [f"ZG-{B}-001", f"ZG-{B}-002", f"ZG-{B}-003"],
        C: [f"ZG-{C}-001", f"ZG-{C}-002"],
    }
    sent = at(date(2026, 11, 4), 10)
    done = date(2026, 11, 3)
    office.reply(A, notices[A], filled(templates[A], claim(3, done, "调研报告")), sent)
    office.reply(B, notices[B], filled(templates[B], claim(3, done, "制度文件")), sent)
    office.collect(at(date(2026, 11, 4), 17))
    office.close(at(date(2026, 11, 6)), f"ZG-{A}-002")
    office.close(at(date(2026, 11, 6)), f"ZG-{B}-001")

    assert office.histories(at(date(2026, 11, 6), 17)) == EXPECTED
