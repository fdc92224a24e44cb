"""Reminders of a progress report (整改进展) attach the unit's template pre-filled with its open
items, as the notice did: the day's chase message and the one-click reminder (一键催办), over a
real SMTP server, on SQLite and PostgreSQL. The items are those open when the reminder is
sent: one closed in between is not listed. A unit with more open items than the sheet holds
still gets its reminder, with the form alone."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.clock import FixedClock
from duban.implement.chase import chase
from duban.implement.remind import RemindRequest, remind
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow
from duban.ledger.store import register
from duban.model.loader import CampaignBundle, load_campaign
from duban.selfcheck.items import NewItem
from duban.selfcheck.ledger import apply_move, create_items
from duban.selfcheck.states import Action, Move
from duban.testing.mailserver import LocalSmtpServer

from .test_campaign_file import replace_in

SECRET = b"a test secret of more than sixteen bytes"
ENV = environment()
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 9, 19, 10, 0, tzinfo=ZONE)
SHEET = "整改进展"
PERIOD = "2026-09"


@dataclass
class Office:
    engine: Engine
    bundle: CampaignBundle
    smtp: LocalSmtpServer

    def due_day(self) -> date:
        """The September progress report's due day (after National Day)."""
        with session_scope(self.engine) as session:
            due = session.scalars(
                select(InstanceRow.due_at).where(
                    InstanceRow.deliverable_id == "rectification", InstanceRow.period == PERIOD
                )
            ).first()
        assert due is not None
        return due.astimezone(ZONE).date()

    def items(self, unit: str, count: int) -> list[str]:
        new = [NewItem(unit, f"问题{n}：学习制度落实不到位", measure=f"措施{n}",
                       deadline=date(2026, 12, 31)) for n in range(1, count + 1)]  # fmt: skip
        with session_scope(self.engine) as session:
            recorded = create_items(session, FixedClock(RECORDED), CID, new, actor="王主任")
            return [r.item.code for r in recorded]

    def close(self, code: str) -> None:
        moves = [Move(Action.CLAIM, "T03", role="unit", evidence="已整改，见附件"),
                 Move(Action.CLOSE, "王主任", role="coordinator")]  # fmt: skip
        for move in moves:
            with session_scope(self.engine) as session:
                apply_move(session, FixedClock(RECORDED), CID, code, move, zone=ZONE)

    def chase(self, moment: datetime) -> None:
        with (
            session_scope(self.engine) as session,
            SmtpMailer(parse_smtp_url(self.smtp.url())) as mailer,
        ):
            chase(session, self.bundle, as_of=moment, mailer=mailer, env=ENV, secret=SECRET,
                  clock=FixedClock(moment), deliverable="rectification")  # fmt: skip

    def remind(self, moment: datetime, *units: str) -> None:
        request = RemindRequest("rectification", PERIOD, unit_ids=units)
        with (
            session_scope(self.engine) as session,
            SmtpMailer(parse_smtp_url(self.smtp.url())) as mailer,
        ):
            remind(session, self.bundle, request, mailer=mailer, clock=FixedClock(moment),
                   env=ENV, secret=SECRET)  # fmt: skip

    def listed(self, key_prefix: str) -> dict[str, list[Any]]:
        """Unit → the item codes of the attachment of its message keyed ``key_prefix…``."""
        found: dict[str, list[Any]] = {}
        for delivery in self.smtp.messages:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if not str(message["X-Duban-Key"]).startswith(key_prefix):
                continue
            to = {a.addr_spec for a in message["To"].addresses}
            unit = next(u for u in self.bundle.units if set(u.emails) == to)
            [attachment] = list(message.iter_attachments())
            found[unit.id] = codes_in(attachment.get_content())
        return found


def codes_in(workbook: bytes) -> list[Any]:
    sheet = load_workbook(io.BytesIO(workbook))[SHEET]
    rows = sheet.iter_rows(min_row=3, values_only=True)
    return [r[0] for r in rows if any(v is not None for v in r)]


def office_of(url: str, bundle: CampaignBundle) -> Iterator[Office]:
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    with LocalSmtpServer() as smtp:
        yield Office(engine, bundle, smtp)
    engine.dispose()


@pytest.fixture
def office(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Office]:
    yield from office_of(ledger_url, example_bundle)


def test_chase_and_remind_attach_the_unit_s_open_items_as_they_stand(office: Office) -> None:
    """T03 has three items, one closed before the chase: its reminder on the due day lists the
    other two; one more is closed before the one-click reminder that afternoon, which lists the
    last. T05 gets its own item, a unit without items the form with no rows."""
    first, second, third = office.items("T03", 3)
    [own] = office.items("T05", 1)
    office.close(first)
    day = office.due_day()
    office.chase(datetime.combine(day, time(10, 0), tzinfo=ZONE))
    chased = office.listed(f"chase:{CID}:")
    assert chased["T03"] == [second, third]
    assert chased["T05"] == [own]
    others = [u.id for u in office.bundle.units if u.id not in ("T03", "T05")]
    assert others
    assert all(chased[u] == [] for u in others)
    office.close(second)
    office.remind(datetime.combine(day, time(15, 0), tzinfo=ZONE), "T03", "T05")
    assert office.listed("remind:") == {"T03": [third], "T05": [own]}


@pytest.fixture
def small_sheet(tmp_path: Path, example_copy: Path) -> Iterator[Office]:
    """The example with a progress sheet of two rows, on SQLite."""
    replace_in(example_copy, "max_rows: 300 ", "max_rows: 2   ")
    bundle = load_campaign(example_copy)
    yield from office_of(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", bundle)


def test_a_unit_with_more_items_than_the_sheet_holds_is_reminded_with_the_form(
    small_sheet: Office,
) -> None:
    office = small_sheet
    office.items("T03", 3)
    codes = office.items("T05", 2)
    office.remind(datetime.combine(office.due_day(), time(10, 0), tzinfo=ZONE), "T03", "T05")
    assert office.listed("remind:") == {"T03": [], "T05": codes}
