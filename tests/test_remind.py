"""One-click reminders (一键催办, ``duban remind``): over real SMTP on loopback, on SQLite and
PostgreSQL; at most one reminder a unit, period and local day; nothing to a unit that
submitted; a wrong id is one error with a hint."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.cli.app import app
from duban.clock import FixedClock
from duban.implement.duties import exempt, find_duty
from duban.implement.remind import RemindReport, RemindRequest, remind
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow, InstanceRow, MessageRow, SubmissionRow
from duban.ledger.store import register
from duban.model.loader import CampaignBundle
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE

SECRET = b"a test secret of more than sixteen bytes"
ENV = environment()
ZONE = "Asia/Shanghai"
# self-check is due Fri 18 Sep 2026 17:30 (Shanghai); Mon 21 Sep it is overdue
MONDAY = datetime.fromisoformat("2026-09-21T10:00:00+08:00")
runner = CliRunner()


@dataclass
class Office:
    engine: Engine
    bundle: CampaignBundle
    smtp: LocalSmtpServer

    def remind(self, moment: datetime, **request: Any) -> RemindReport:
        request.setdefault("deliverable_id", "self-check")
        with (
            session_scope(self.engine) as session,
            SmtpMailer(parse_smtp_url(self.smtp.url())) as mailer,
        ):
            return remind(
                session, self.bundle, RemindRequest(**request), mailer=mailer,
                clock=FixedClock(moment), env=ENV, secret=SECRET,
            )  # fmt: skip

    def submit(self, deliverable: str, period: str, unit_id: str, at: datetime) -> None:
        with session_scope(self.engine) as session:
            duty = find_duty(session, self.bundle, deliverable, unit_id, period)
            session.add(SubmissionRow(instance_id=duty.id, version=1, sha256="0" * 64,
                                      received_at=at, on_time=at < duty.effective_due,
                                      row_count=1, rows={}))  # fmt: skip

    def received(self) -> list[tuple[str, str, str]]:
        """(unit, remind key's day, subject) of every message the server accepted."""
        units = self._units_by_instance()
        got = []
        for delivery in self.smtp.messages:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            kind, instance, day = str(message["X-Duban-Key"]).split(":")
            assert kind == "remind"
            got.append((units[int(instance)], day, str(message["Subject"])))
        return got

    def _units_by_instance(self) -> dict[int, str]:
        with session_scope(self.engine) as session:
            return {r.id: r.unit_id for r in session.scalars(select(InstanceRow))}


@pytest.fixture
def office(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Office]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    with LocalSmtpServer() as smtp:
        yield Office(engine, example_bundle, smtp)
    engine.dispose()


def test_late_units_get_one_reminder_a_day(office: Office) -> None:
    office.submit("self-check", "once", "T01", datetime.fromisoformat("2026-09-18T11:00+08:00"))
    chosen = ("T01", "T02", "T03")
    first = office.remind(MONDAY, unit_ids=chosen, by="王主任")
    assert first.plan.period == "once"
    assert first.plan.settled == ("T01",)  # submitted: nothing for it
    assert sum(o.sent_now for o in first.outcomes) == 2
    got = office.received()
    assert sorted(u for u, _, _ in got) == ["T02", "T03"]
    assert {day for _, day, _ in got} == {"2026-09-21"}
    assert all("尽快" in subject and "自查自纠问题及整改台账" in subject for _, _, subject in got)
    message = email.message_from_bytes(office.smtp.messages[0].raw, policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "已于" in body
    assert "已逾期 2 个工作日" in body
    assert str(next(p.get_filename() for p in message.iter_attachments())).endswith(".xlsx")
    # the same day, later, and past local midnight in UTC terms but not in Shanghai: nothing
    for moment in ("2026-09-21T16:00:00+08:00", "2026-09-21T15:59:00+00:00"):
        again = office.remind(datetime.fromisoformat(moment), unit_ids=chosen, by="李华")
        assert sum(o.sent_now for o in again.outcomes) == 0
        assert [o.status for o in again.outcomes] == ["sent", "sent"]
    assert len(office.smtp.messages) == 2
    # a minute after local midnight it is the next day: one more each
    office.remind(datetime.fromisoformat("2026-09-21T16:01:00+00:00"), unit_ids=chosen, by="李华")
    got = office.received()
    assert Counter(u for u, _, _ in got) == {"T02": 2, "T03": 2}
    assert Counter(day for _, day, _ in got) == {"2026-09-21": 2, "2026-09-22": 2}
    with session_scope(office.engine) as session:
        rows = session.scalars(select(MessageRow).where(MessageRow.kind == "remind")).all()
        events = session.scalars(select(EventRow).where(EventRow.kind == "remind.sent")).all()
        assert len(rows) == 4
        assert {r.status for r in rows} == {"sent"}
        assert sorted((e.actor, e.subject) for e in events) == [
            ("李华", "self-check/once/T02"), ("李华", "self-check/once/T03"),
            ("王主任", "self-check/once/T02"), ("王主任", "self-check/once/T03"),
        ]  # fmt: skip
        assert {e.payload["key"] for e in events} == {r.idempotency_key for r in rows}


def test_a_tag_chooses_by_the_roster(office: Office) -> None:
    tagged = {u.id for u in office.bundle.units if "党委部门" in u.tags}
    assert len(tagged) == 4
    report = office.remind(MONDAY, tag="党委部门")
    assert sorted(u for u, _, _ in office.received()) == sorted(tagged)
    assert len(report.outcomes) == 4
    # units and a tag together: the named units that carry the tag
    office.remind(MONDAY.replace(day=22), tag="镇区", unit_ids=("T04", "T05"))
    assert sorted(u for u, day, _ in office.received() if day == "2026-09-22") == ["T04", "T05"]


def test_nothing_for_submitted_or_exempted_units(office: Office) -> None:
    before_due = datetime.fromisoformat("2026-09-17T10:00:00+08:00")  # due the next day
    office.submit("self-check", "once", "T01", before_due)
    with session_scope(office.engine) as session:
        duty = find_duty(session, office.bundle, "self-check", "T02", None)
        exempt(session, duty, reason="本年度撤并", actor="王主任", clock=FixedClock(before_due))
    report = office.remind(before_due, tag="镇区")
    assert set(report.plan.settled) == {"T01", "T02"}
    got = office.received()
    assert len(got) == 8  # the 10 towns less the two
    assert not {"T01", "T02"} & {u for u, _, _ in got}
    assert all(subject.startswith("【提醒】请报送") for _, _, subject in got)  # not yet due


def test_the_cli_reminds_once_a_day_and_says_so(office: Office, tmp_path: Path) -> None:
    env = _env(office, tmp_path)
    args = ["remind", str(EXAMPLE), "--deliverable", "self-check", "--units", "T02,T03",
            "--by", "王主任"]  # fmt: skip
    first = runner.invoke(app, [*args, "--as-of", "2026-09-21T10:00"], env=env)
    assert first.exit_code == 0, first.output
    assert "self-check once (2026-09-21): 2 reminders sent" in first.output
    again = runner.invoke(app, [*args, "--as-of", "2026-09-21T15:00"], env=env)
    assert again.exit_code == 0, again.output
    assert "2 units already reminded today: nothing sent again" in again.output
    assert "reminders sent" not in again.output
    assert len(office.smtp.messages) == 2
    next_day = runner.invoke(app, [*args, "--as-of", "2026-09-22T09:00"], env=env)
    assert "self-check once (2026-09-22): 2 reminders sent" in next_day.output
    assert len(office.smtp.messages) == 4


@pytest.mark.parametrize(
    ("options", "said", "hint"),
    [
        (["--deliverable", "selfcheck"], "no deliverable 'selfcheck'", "self-check"),
        (["--deliverable", "rectification", "--period", "2026-13"],
         "no period '2026-13' of rectification", "2026-09"),
        (["--deliverable", "self-check", "--units", "T02,T99"],
         "no unit 'T99' in the roster", "T01"),
        (["--deliverable", "progress", "--period", "2026-Q1", "--units", "T02"],
         "T02 owe no progress for 2026-Q1", "duban status"),
        (["--deliverable", "self-check", "--tag", "乡镇"], "no tag '乡镇' in the roster", "镇区"),
    ],
    ids=["deliverable", "period", "unit", "unassigned-unit", "tag"],
)  # fmt: skip
def test_a_wrong_id_is_one_error_with_a_hint(
    office: Office, tmp_path: Path, options: list[str], said: str, hint: str
) -> None:
    env = _env(office, tmp_path)
    result = runner.invoke(app, ["remind", str(EXAMPLE), *options, "--as-of", "2026-09-21"],
                           env=env)  # fmt: skip
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    error, arrow = result.output.strip().splitlines()
    assert error == f"error: {said}"
    assert arrow.strip().startswith("→")
    assert hint in arrow
    assert office.smtp.messages == []


def _env(office: Office, tmp_path: Path) -> dict[str, str]:
    return {
        "DUBAN_DATABASE_URL": office.engine.url.render_as_string(hide_password=False),
        "DUBAN_HOME": str(tmp_path),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": office.smtp.url(),
        "COLUMNS": "200",
    }


def test_the_remind_flow_sends_a_batch_of_units_per_task(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.remind import remind as remind_flow

    with LocalSmtpServer() as smtp:
        office = Office(make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}"), _bundle(), smtp)
        migrate(office.engine)
        with session_scope(office.engine) as session:
            register(session, office.bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
        office.submit("self-check", "once", "T01", MONDAY.replace(day=18))
        for name, value in _env(office, tmp_path).items():
            monkeypatch.setenv(name, value)
        args: dict[str, Any] = {
            "campaign_file": str(EXAMPLE), "deliverable": "self-check", "tag": "镇区",
            "by": "王主任", "batch_size": 3, "as_of": MONDAY.isoformat(),
        }  # fmt: skip
        result = remind_flow(**args)
        assert (result["owed"], result["settled"], result["sent_now"]) == (9, 1, 9)
        assert remind_flow(**args)["already"] == 9
        assert Counter(u for u, _, _ in office.received()) == {
            u.id: 1 for u in office.bundle.units if "镇区" in u.tags and u.id != "T01"
        }
        office.engine.dispose()


def _bundle() -> CampaignBundle:
    from duban.model.loader import load_campaign

    return load_campaign(EXAMPLE)
