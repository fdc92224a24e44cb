"""Chase over a simulated month with a public holiday and adjusted working weekends: exactly
which rung each unit received, over real SMTP, checked against a table written here."""

from __future__ import annotations

import email
import email.policy
import hashlib
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.clock import FixedClock
from duban.implement.chase import chase
from duban.implement.duties import exempt, extend, find_duty
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.ledger.store import register
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import CLAIM_WINDOW, GROUP
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE

SECRET = b"a test secret of more than sixteen bytes"
ENV = environment()
WATCHED = ("self-check", "rectification")
FIRST_DAY, LAST_DAY = date(2026, 9, 14), date(2026, 10, 16)


@dataclass
class Office:
    engine: Engine
    bundle: CampaignBundle
    smtp: LocalSmtpServer

    def at(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour, 0), tzinfo=self.bundle.campaign.zone)

    def chase(self, moment: datetime, **kw: Any) -> list[Any]:
        reports = []
        clock = FixedClock(moment)
        with (
            session_scope(self.engine) as session,
            SmtpMailer(parse_smtp_url(self.smtp.url())) as mailer,
        ):
            for deliverable in WATCHED:
                report = chase(
                    session, self.bundle, as_of=moment, mailer=mailer, env=ENV, secret=SECRET,
                    clock=clock, deliverable=deliverable, **kw,
                )  # fmt: skip
                reports.append(report)
        return reports

    def submit(self, deliverable: str, period: str, unit_id: str, at: datetime) -> None:
        with session_scope(self.engine) as session:
            duty = session.scalars(select(InstanceRow).where(
                InstanceRow.deliverable_id == deliverable, InstanceRow.period == period,
                InstanceRow.unit_id == unit_id)).one()  # fmt: skip
            session.add(SubmissionRow(instance_id=duty.id, version=1, sha256="0" * 64,
                                      received_at=at, on_time=at < duty.effective_due,
                                      row_count=1, rows={}))  # fmt: skip

    def received(self) -> dict[tuple[str, ...], list[date]]:
        """(unit or 'office', deliverable, period, rung) → the local days it was sent."""
        zone = self.bundle.campaign.zone
        duties = self._duties()
        got: dict[tuple[str, ...], list[date]] = {}
        for delivery in self.smtp.messages:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            key = str(message["X-Duban-Key"]).split(":")
            day = parsedate_to_datetime(str(message["Date"])).astimezone(zone).date()
            if key[0] == "chase":  # a unit's message of the day: each rung it covers
                for cover in str(message["X-Duban-Covers"]).split():
                    _, kind, instance = cover.split(":")
                    deliverable, period, unit = duties[int(instance)]
                    got.setdefault((unit, deliverable, period, kind), []).append(day)
                continue
            entry = ("office", key[2], key[3], key[4], str(len(_units_listed(message))))
            got.setdefault(entry, []).append(day)
        return got

    def _duties(self) -> dict[int, tuple[str, str, str]]:
        with session_scope(self.engine) as session:
            rows = session.scalars(select(InstanceRow)).all()
            return {r.id: (r.deliverable_id, r.period, r.unit_id) for r in rows}


def _units_listed(message: Any) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return [line for line in text.splitlines() if line[:1].isdigit() and ". " in line[:4]]


@pytest.fixture
def office(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Office]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    with LocalSmtpServer() as smtp:
        yield Office(engine, example_bundle, smtp)
    engine.dispose()


def walk(
    office: Office, first: date = FIRST_DAY, last: date = LAST_DAY, twice: bool = False
) -> None:
    day = first
    while day <= last:
        if day == date(2026, 9, 16):
            office.submit("self-check", "once", "T01", office.at(day, 11))
        if day == date(2026, 10, 12):
            office.submit("rectification", "2026-09", "T02", office.at(day, 11))
        office.chase(office.at(day))
        if twice:
            office.chase(office.at(day))
        day += timedelta(days=1)


# What a unit that never submits receives, by the official calendar of 2026:
#  self-check, due Fri 18 Sep 17:30: reminder 3 working days before (Tue 15), final notice on
#  the day, overdue notice 1 working day after: Sun 20 Sep, an adjusted working day (调休).
#  rectification 2026-09, due 13 Oct (5 working days after 30 Sep, skipping the National Day
#  week 1–7 Oct and counting Sat 10 Oct, an adjusted working day): reminder 2 working days
#  before, on Sat 10 Oct; final notice Tue 13 Oct; overdue notice Wed 14 Oct.
NEVER_SUBMITS = {
    ("self-check", "once", "reminder"): [date(2026, 9, 15)],
    ("self-check", "once", "final-notice"): [date(2026, 9, 18)],
    ("self-check", "once", "overdue-notice"): [date(2026, 9, 20)],
    ("rectification", "2026-09", "reminder"): [date(2026, 10, 10)],
    ("rectification", "2026-09", "final-notice"): [date(2026, 10, 13)],
    ("rectification", "2026-09", "overdue-notice"): [date(2026, 10, 14)],
}


def of_unit(got: dict[tuple[str, ...], list[date]], unit: str) -> dict[tuple[str, ...], list[date]]:
    return {k[1:]: v for k, v in got.items() if k[0] == unit}


def test_a_month_of_chasing_matches_the_table(office: Office) -> None:
    walk(office)
    got = office.received()
    assert of_unit(got, "T03") == NEVER_SUBMITS
    # T01 sent its self-check on 16 Sep, between the reminder and the final notice
    t01 = dict(NEVER_SUBMITS)
    del t01[("self-check", "once", "final-notice")], t01[("self-check", "once", "overdue-notice")]
    assert of_unit(got, "T01") == t01
    # T02 sent its September rectification on 12 Oct, after the reminder only
    t02 = dict(NEVER_SUBMITS)
    del t02[("rectification", "2026-09", "final-notice")]
    del t02[("rectification", "2026-09", "overdue-notice")]
    assert of_unit(got, "T02") == t02
    for unit in office.bundle.units:
        assert all(len(days) == 1 for days in of_unit(got, unit.id).values())
    # escalation: 3 working days after the self-check deadline (Tue 22 Sep), one message to the
    # coordinator naming the 29 units still missing
    assert got[("office", "self-check", "once", "escalation", "29")] == [date(2026, 9, 22)]
    sent_days = {d for days in got.values() for d in days}
    holidays = {date(2026, 9, 19), date(2026, 9, 26), *(date(2026, 10, d) for d in range(1, 8))}
    assert not sent_days & holidays  # nothing on a day off


def test_the_overdue_notice_copies_the_head(office: Office) -> None:
    walk(office, last=date(2026, 9, 20))
    with session_scope(office.engine) as session:
        duty = find_duty(session, office.bundle, "self-check", "T03", None)
    key = f"rung:overdue-notice:{duty.id}".encode()
    [notice] = [d for d in office.smtp.messages if key in d.raw]
    unit = office.bundle.units_by_id["T03"]
    assert set(notice.rcpt_tos) == {*unit.emails, unit.head_email}
    message = email.message_from_bytes(notice.raw, policy=email.policy.default)
    assert str(message["Cc"]) == unit.head_email
    assert "已逾期 1 个工作日" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_chasing_twice_at_the_same_moment_sends_nothing_twice(office: Office) -> None:
    walk(office, twice=True)
    keys = Counter(
        str(email.message_from_bytes(d.raw, policy=email.policy.default)["X-Duban-Key"])
        for d in office.smtp.messages
    )
    assert set(keys.values()) == {1}


def test_quiet_hours_and_days_off(office: Office) -> None:
    reports = office.chase(office.at(date(2026, 9, 15), hour=20))  # after office hours
    assert not any(r.office_open for r in reports)
    reports = office.chase(office.at(date(2026, 10, 3)))  # National Day
    assert not any(r.office_open for r in reports)
    assert office.smtp.messages == []


def test_extension_and_exemption_change_the_ladder(office: Office) -> None:
    clock = FixedClock(office.at(date(2026, 9, 14)))
    with session_scope(office.engine) as session:
        duty = find_duty(session, office.bundle, "self-check", "T04", None)
        extend(session, office.bundle, duty, date(2026, 9, 30), reason="机构调整", actor="王主任",
               clock=clock)  # fmt: skip
        duty = find_duty(session, office.bundle, "self-check", "T05", None)
        exempt(session, duty, reason="本年度撤并", actor="王主任", clock=clock)
    walk(office, last=date(2026, 10, 10))
    got = office.received()
    t04 = {k[2]: v for k, v in of_unit(got, "T04").items() if k[0] == "self-check"}
    # due Wed 30 Sep: 3 working days before skips the Mid-Autumn days off (25–27 Sep);
    # 1 working day after skips the National Day week; 3 after lands on Sat 10 Oct (调休)
    assert t04 == {
        "reminder": [date(2026, 9, 24)],
        "final-notice": [date(2026, 9, 30)],
        "overdue-notice": [date(2026, 10, 8)],
    }
    assert got[("office", "self-check", "once", "escalation", "1")] == [date(2026, 10, 10)]
    assert not [k for k in of_unit(got, "T05") if k[0] == "self-check"]


KILL_SCRIPT = """
import os, signal, sys
from datetime import datetime
from duban.implement.chase import chase
from duban.clock import FixedClock
from duban.ledger.db import make_engine, session_scope
from duban.model.loader import load_campaign
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment

ledger, smtp, moment = sys.argv[1:4]
as_of = datetime.fromisoformat(moment)
sent = []
def after_each(outcome):
    sent.append(outcome)
    if len(sent) == 7:
        os.kill(os.getpid(), signal.SIGKILL)
bundle = load_campaign({example!r})
with session_scope(make_engine(ledger)) as session, SmtpMailer(parse_smtp_url(smtp)) as mailer:
    chase(session, bundle, as_of=as_of, mailer=mailer, env=environment(), secret={secret!r},
          clock=FixedClock(as_of), deliverable="self-check", after_each=after_each)
"""


def test_a_chase_killed_mid_batch_misses_none_and_resends_at_most_its_group(
    office: Office,
) -> None:
    """Killed after 7 sends of a group not yet marked: the group's claims hold until they are
    ``CLAIM_WINDOW`` old; then every rung goes, the 7 in flight a second time (at most
    ``GROUP``) under their recorded Message-IDs, the rest once."""
    moment = office.at(date(2026, 9, 15))
    script = KILL_SCRIPT.format(example=str(EXAMPLE), secret=SECRET)
    ledger = office.engine.url.render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", script, ledger, office.smtp.url(), moment.isoformat()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    in_flight = {message_id(d.raw) for d in office.smtp.messages}
    assert len(in_flight) == 7
    office.chase(moment)
    reminders = [k for k in office.received() if k[1] == "self-check" and k[3] == "reminder"]
    assert len(reminders) == 7, "the killed run's claims hold until they expire"
    office.chase(moment + CLAIM_WINDOW + timedelta(seconds=1))
    reminders = [k for k in office.received() if k[1] == "self-check" and k[3] == "reminder"]
    assert len(reminders) == 30
    ids = Counter(message_id(d.raw) for d in office.smtp.messages)
    assert {i for i, n in ids.items() if n > 1} == in_flight
    assert len(in_flight) <= GROUP
    assert set(ids.values()) == {1, 2}


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])


def test_escalation_reaches_the_group_bots_once(office: Office) -> None:
    import httpx

    from duban.adapters.bots import BotSender, parse_bots
    from duban.sending.escalate import ledger_bot_poster
    from duban.testing.botserver import LocalBotServer

    clock = FixedClock(office.at(date(2026, 9, 22)))
    with LocalBotServer(secrets={"dd-token": "SECdd"}, clock=clock) as bots:
        specs = parse_bots(
            ",".join([bots.url("dingtalk", "dd-token", secret="SECdd"), bots.url("wecom", "wx")])
        )
        with httpx.Client(trust_env=False, timeout=5) as client:
            sender = BotSender(
                client, clock, sleep=lambda seconds: clock.advance(timedelta(seconds=seconds))
            )
            kept: dict[str, bytes] = {}

            def keep(data: bytes) -> str:  # the raw store's put, in memory
                digest = hashlib.sha256(data).hexdigest()
                kept[digest] = data
                return digest

            poster = ledger_bot_poster(sender, specs, clock, office.bundle, keep)
            walk(office, last=date(2026, 9, 21))
            assert bots.requests == []  # no escalation before its day
            for _ in range(2):  # the same moment twice: posted once
                reports = office.chase(office.at(date(2026, 9, 22)), post_bots=poster)
        dingtalk, wecom = bots.requests_for("dd-token"), bots.requests_for("wx")
    assert [r.status for r in dingtalk] == [200]  # its signature verified by the server
    assert len(wecom) == 1
    text = dingtalk[0].body["markdown"]["text"]
    assert "自查自纠问题及整改台账" in text
    assert "直溪镇" in text
    assert "金城镇" not in text
    assert sum(len(r.bot_posts) for r in reports) == 0  # the second run posted nothing
    # what was posted is kept (for the archive), before the signature, each post's own bytes
    assert len(kept) == 2
    assert any("直溪镇" in data.decode("utf-8") for data in kept.values())


def test_the_escalation_subject_is_not_the_overdue_notice_s(office: Office) -> None:
    walk(office, first=date(2026, 9, 18), last=date(2026, 9, 22))
    subjects: dict[str, set[str]] = {}
    for delivery in office.smtp.messages:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        key = str(message["X-Duban-Key"]).split(":")
        kind = str(message["X-Duban-Covers"]).split(":")[1] if key[0] == "chase" else key[0]
        subjects.setdefault(kind, set()).add(str(message["Subject"]))
    [escalation] = subjects["escalation"]
    assert escalation == "【提请约谈】《自查自纠问题及整改台账》逾期未报送单位（30个）"
    tags = {s.split("】")[0] for s in subjects["overdue-notice"]}
    assert tags == {"【督办"}
    assert escalation.split("】")[0] not in tags
