"""Mobilize end to end over a real SMTP server on 127.0.0.1: one notice per unit, exactly once."""

from __future__ import annotations

import email
import email.policy
import io
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

import duban.sending.dispatch as dispatch_module
from duban.adapters.mail.mailer import SendResult, SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.adapters.xlsx import verify
from duban.adapters.xlsx.metadata import identity_of, read_metadata
from duban.clock import FixedClock
from duban.implement.intake.rawstore import RawStore
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow, MessageRow
from duban.ledger.store import register
from duban.mobilize.send import (
    NoticeRequest,
    approve_notices,
    plan_notices,
    preview_notices,
    send_notices,
)
from duban.model.loader import CampaignBundle, load_campaign
from duban.sending.dispatch import CLAIM_WINDOW, Outcome
from duban.testing.mailserver import (
    LocalSmtpServer,
    make_self_signed_certificate,
    server_tls_context,
)

from .conftest import EXAMPLE, ROOT

SECRET = b"a test secret of more than sixteen bytes"
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # 10 Feb 2026, 09:00 in Shanghai
ENV = environment()


@dataclass
class Ledger:
    engine: Engine
    bundle: CampaignBundle
    clock: FixedClock


@pytest.fixture
def ledger(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Ledger]:
    engine = make_engine(ledger_url)
    migrate(engine)
    clock = FixedClock(NOW)
    with session_scope(engine) as session:
        register(session, example_bundle, clock)
    yield Ledger(engine, example_bundle, clock)
    engine.dispose()


@pytest.fixture
def server() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as running:
        yield running


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LocalSmtpServer, str]]:
    cert, key = make_self_signed_certificate(tmp_path)
    with LocalSmtpServer(
        starttls_context=server_tls_context(cert, key),
        require_starttls=True,
        users={"youhuaban": "p@ss:w/rd-42"},
    ) as running:
        yield running, running.url("youhuaban", "p@ss:w/rd-42", cafile=cert)


def send_plan(ledger: Ledger, url: str, **request: Any) -> list[Outcome]:
    with session_scope(ledger.engine) as session:
        plan = plan_notices(
            session, ledger.bundle, NoticeRequest("plan", **request),
            clock=ledger.clock, secret=SECRET, env=ENV,
        )  # fmt: skip
        with SmtpMailer(parse_smtp_url(url)) as mailer:
            return send_notices(
                session, ledger.bundle, plan.instance_ids, mailer=mailer,
                clock=ledger.clock, secret=SECRET, env=ENV,
            )  # fmt: skip


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def check_notices(deliveries: list[Any], bundle: CampaignBundle) -> None:
    """Every unit: one message, Chinese intact, its own verified workbook, RFC 5322 lines."""
    by_unit: dict[str, list[EmailMessage]] = {}
    for delivery in deliveries:
        for line in delivery.raw.split(b"\r\n"):
            assert len(line) <= 998
        message = parsed(delivery.raw)
        unit = next(u for u in bundle.units if set(u.emails) == set(delivery.rcpt_tos))
        by_unit.setdefault(unit.id, []).append(message)
    assert sorted(by_unit) == sorted(u.id for u in bundle.units)
    ids = [m["Message-ID"] for ms in by_unit.values() for m in ms]
    assert len(ids) == len(set(ids)) == len(bundle.units)
    for unit in bundle.units:
        [message] = by_unit[unit.id]
        assert (
            message["Subject"]
            == "【2026年“能力作风建设提升年”活动】关于报送《实施方案》的通知" + f"（{unit.name}）"
        )
        assert message["From"].addresses[0].display_name == "市优化办"
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == f"实施方案-{unit.name}.xlsx"
        data = attachment.get_content()
        meta = read_metadata(data)
        assert (meta["unit_id"], meta["unit_name"]) == (unit.id, unit.name)
        assert verify(SECRET, identity_of(meta), meta["token"])
        book = load_workbook(io.BytesIO(data))
        assert "实施方案" in book.sheetnames
        text = message.get_body(("plain",))
        assert text is not None
        assert "2026年3月5日（星期四）24:00前" in text.get_content()
        assert "<" not in text.get_content()


def test_plan_notices_over_plain_smtp(ledger: Ledger, server: LocalSmtpServer) -> None:
    outcomes = send_plan(ledger, server.url())
    assert Counter(o.status for o in outcomes) == {"sent": 30}
    check_notices(server.messages, ledger.bundle)
    assert server.sessions == 1  # one connection for the whole batch


def test_plan_notices_over_starttls_with_auth(
    ledger: Ledger, tls_server: tuple[LocalSmtpServer, str]
) -> None:
    server, url = tls_server
    send_plan(ledger, url)
    check_notices(server.messages, ledger.bundle)
    assert server.logins == 1


def test_running_again_sends_nothing(ledger: Ledger, server: LocalSmtpServer) -> None:
    send_plan(ledger, server.url())
    again = send_plan(ledger, server.url())
    assert len(server.messages) == 30
    assert not any(o.sent_now for o in again)
    assert {o.status for o in again} == {"sent"}


def test_the_bytes_sent_are_in_the_store_before_the_ledger_records_their_hash(
    ledger: Ledger, server: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mailer keeps each message with ``put_later``; ``dispatch`` settles the store
    before it commits a group's marks, so whenever the store settles (each group, and at
    close), every hash the ledger has committed already names an object in place."""
    monkeypatch.setattr(dispatch_module, "GROUP", 7)
    store = RawStore(tmp_path / "raw")
    missing_at_settle: list[int] = []

    def settle() -> None:
        with ledger.engine.connect() as db:
            recorded = db.scalars(select(MessageRow.raw_sha256)).all()
        missing_at_settle.append(sum(1 for sha in recorded if sha and not store.has(sha)))
        store.settle()

    with session_scope(ledger.engine) as session:
        plan = plan_notices(session, ledger.bundle, NoticeRequest("plan"), clock=ledger.clock,
                            secret=SECRET, env=ENV)  # fmt: skip
        config = parse_smtp_url(server.url())
        with SmtpMailer(config, keep=store.put_later, settle=settle) as mailer:
            send_notices(session, ledger.bundle, plan.instance_ids, mailer=mailer,
                         clock=ledger.clock, secret=SECRET, env=ENV)  # fmt: skip

    with session_scope(ledger.engine) as session:
        kept = session.scalars(select(MessageRow.raw_sha256)).all()
    assert len(missing_at_settle) == 30 // 7 + 1 + 1  # every group, then the close
    assert set(missing_at_settle) == {0}
    assert sorted(store.get(str(sha)) for sha in kept) == sorted(d.raw for d in server.messages)
    assert not list((tmp_path / "raw").rglob(".tmp-*"))


def test_refused_recipients_are_recorded(ledger: Ledger) -> None:
    with LocalSmtpServer(refuse=["jiaoyu@jt.example", "xuebu.office@jt.example"]) as server:
        outcomes = send_plan(ledger, server.url())
    by_unit = {o.key.rsplit(":", 1)[1]: o for o in outcomes}
    assert by_unit["B08"].status == "refused"
    assert by_unit["T05"].status == "partial"  # one of its two addresses refused
    assert set(by_unit["T05"].refused) == {"xuebu.office@jt.example"}
    with session_scope(ledger.engine) as session:
        row = session.scalars(
            select(MessageRow).where(MessageRow.idempotency_key.endswith(":B08"))
        ).one()
    assert row.refused[0][0] == "jiaoyu@jt.example"
    assert row.refused[0][1] == 550


class CrashAfter:
    """A mailer that really sends, then 'crashes' before duban can record the send."""

    def __init__(self, inner: SmtpMailer, after: int) -> None:
        self.inner, self.left = inner, after

    def __enter__(self) -> CrashAfter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage) -> SendResult:
        result = self.inner.send(message)
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt("crash between the send and its record")
        return result


def test_crash_between_send_and_record_resends_with_the_same_message_id(
    ledger: Ledger, server: LocalSmtpServer
) -> None:
    with session_scope(ledger.engine) as session:
        plan = plan_notices(
            session,
            ledger.bundle,
            NoticeRequest("plan"),
            clock=ledger.clock,
            secret=SECRET,
            env=ENV,
        )
        with SmtpMailer(parse_smtp_url(server.url())) as smtp, pytest.raises(KeyboardInterrupt):
            send_notices(
                session, ledger.bundle, plan.instance_ids, mailer=CrashAfter(smtp, 5),
                clock=ledger.clock, secret=SECRET, env=ENV,
            )  # fmt: skip
    assert len(server.messages) == 5
    send_plan(ledger, server.url())
    ids = Counter(parsed(d.raw)["Message-ID"] for d in server.messages)
    assert len(ids) == 30  # nobody missed
    [(twice, count)] = [(i, n) for i, n in ids.items() if n > 1]
    assert count == 2  # the one message in flight at the crash, under its recorded Message-ID:
    assert twice == parsed(server.messages[4].raw)["Message-ID"]


KILL_SCRIPT = """
import os, signal, sys
from duban.clock import FixedClock
from duban.ledger.db import make_engine, session_scope
from duban.model.loader import load_campaign
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.adapters.render import environment
from datetime import datetime
import duban.sending.dispatch
duban.sending.dispatch.GROUP = 5  # so that a kill after 12 falls in the third group
url, smtp, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
bundle = load_campaign({example!r})
clock = FixedClock(datetime.fromisoformat({now!r}))
sent = []
def after_each(outcome):
    sent.append(outcome)
    if len(sent) == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
with session_scope(make_engine(url)) as session:
    plan = plan_notices(session, bundle, NoticeRequest("plan"), clock=clock,
                        secret={secret!r}, env=environment())
    with SmtpMailer(parse_smtp_url(smtp)) as mailer:
        send_notices(session, bundle, plan.instance_ids, mailer=mailer, clock=clock,
                     secret={secret!r}, env=environment(), after_each=after_each)
"""


def test_a_killed_process_loses_nobody_and_resends_at_most_its_group(
    ledger: Ledger, server: LocalSmtpServer
) -> None:
    """Killed after 12 sends, in groups of 5: two groups marked, the third claimed with two of
    its messages sent. The next run at once sends what nobody claimed; once the claims are
    ``CLAIM_WINDOW`` old, the two go again (the documented window: at most a group), under
    their recorded Message-IDs, and the group's other three once."""
    script = KILL_SCRIPT.format(example=str(EXAMPLE), now=NOW.isoformat(), secret=SECRET)
    url = ledger.engine.url.render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", script, url, server.url(), "12"], capture_output=True, check=False
    )
    assert killed.returncode == -9  # SIGKILL: no cleanup ran
    before = [parsed(d.raw)["Message-ID"] for d in server.messages]
    assert len(before) == 12
    send_plan(ledger, server.url())
    assert len(server.messages) == 12 + 15, "the third group's claims hold until they expire"
    ledger.clock.advance(CLAIM_WINDOW + timedelta(seconds=1))
    send_plan(ledger, server.url())
    recipients = Counter(tuple(sorted(d.rcpt_tos)) for d in server.messages)
    assert len(recipients) == 30, "nobody lost"
    ids = Counter(parsed(d.raw)["Message-ID"] for d in server.messages)
    again = {i for i, n in ids.items() if n > 1}
    assert again == set(before[10:]), "only the unmarked group's sends go again, same ids"
    assert set(ids.values()) <= {1, 2}


def test_dry_run_writes_every_message_and_sends_none(ledger: Ledger, tmp_path: Path) -> None:
    with session_scope(ledger.engine) as session:
        plan = plan_notices(
            session, ledger.bundle, NoticeRequest("plan", unit_ids=("T01", "B08")),
            clock=ledger.clock, secret=SECRET, env=ENV,
        )  # fmt: skip
        folder = preview_notices(
            session, ledger.bundle, plan, outbox=tmp_path, clock=ledger.clock, secret=SECRET,
            env=ENV,
        )  # fmt: skip
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    subjects = {parsed(f.read_bytes())["Subject"] for f in files}
    assert any("金城镇" in s for s in subjects)
    assert all("“能力作风建设提升年”" in s for s in subjects), subjects  # GB/T 15834 quotes
    with session_scope(ledger.engine) as session:
        assert session.scalars(select(MessageRow)).all() == []
        kinds = session.scalars(select(EventRow.kind)).all()
    assert "notices.previewed" in kinds


def test_approval_binds_to_what_was_previewed(ledger_url: str, example_copy: Path) -> None:
    text = example_copy.read_text(encoding="utf-8") + "approval: true\n"
    example_copy.write_text(text, encoding="utf-8")
    bundle = load_campaign(example_copy)
    engine = make_engine(ledger_url)
    migrate(engine)
    clock = FixedClock(NOW)
    request = NoticeRequest("plan")
    with session_scope(engine) as session:
        register(session, bundle, clock)
        plan = plan_notices(session, bundle, request, clock=clock, secret=SECRET, env=ENV)
        assert plan.needs_approval
        assert not plan.may_send
        approve_notices(session, plan, clock=clock, actor="王主任")
        assert plan_notices(session, bundle, request, clock=clock, secret=SECRET, env=ENV).may_send
    roster = example_copy.parent / "roster.csv"
    roster.write_text(roster.read_text("utf-8").replace("金城镇", "金城镇人民政府"), "utf-8")
    changed = load_campaign(example_copy)
    with session_scope(engine) as session:
        register(session, changed, clock)
        again = plan_notices(session, changed, request, clock=clock, secret=SECRET, env=ENV)
    assert not again.may_send  # the notices changed since they were approved
    engine.dispose()


def test_the_mobilize_flow_sends_and_publishes(
    prefect_harness: None, server: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.mobilize import mobilize

    monkeypatch.setenv("DUBAN_HOME", str(tmp_path))
    monkeypatch.setenv("DUBAN_SECRET", SECRET.decode())
    monkeypatch.setenv("DUBAN_SMTP_URL", server.url())
    engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    migrate(engine)
    with session_scope(engine) as session:
        register(session, load_campaign(EXAMPLE), FixedClock(NOW))
    result = mobilize(str(EXAMPLE), "plan", batch_size=7, as_of=NOW.isoformat())
    assert result["by_status"] == {"sent": 30}
    assert result["sent_now"] == 30
    again = mobilize(str(EXAMPLE), "plan", batch_size=7, as_of=NOW.isoformat())
    assert again["sent_now"] == 0
    assert len(server.messages) == 30


def test_duban_mobilize_twice_sends_each_unit_one_notice(
    server: LocalSmtpServer, tmp_path: Path
) -> None:
    env = {
        "DUBAN_HOME": str(tmp_path),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": server.url(),
        "DUBAN_NOW": "2026-02-10T09:00",
    }
    duban = [sys.executable, "-m", "duban"]
    run = {"capture_output": True, "text": True, "cwd": ROOT, "check": False}
    init = subprocess.run([*duban, "init", str(EXAMPLE)], env=_env(env), **run)  # type: ignore[call-overload]
    assert init.returncode == 0, init.stderr
    for _ in range(2):
        result = subprocess.run(  # type: ignore[call-overload]
            [*duban, "mobilize", str(EXAMPLE), "--deliverable", "plan"], env=_env(env), **run
        )
        assert result.returncode == 0, result.stderr
    assert "30 units, 0 sent now; sent 30" in result.stdout
    recipients = Counter(tuple(sorted(d.rcpt_tos)) for d in server.messages)
    assert len(recipients) == 30
    assert set(recipients.values()) == {1}


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **extra}


COUNTING_FORKS = """
import atexit, json, sys
from pathlib import Path
from duban.sending import ahead
forks = []
original = ahead.Ahead._fork
def counting(self, jobs):
    pool = original(self, jobs)
    if pool is not None:
        forks.append(len(self._drafts))
    return pool
ahead.Ahead._fork = counting
out = Path(sys.argv[1])
atexit.register(lambda: out.write_text(json.dumps(forks)))
from duban.cli.app import main
sys.argv = ["duban", *sys.argv[2:]]
main()
"""


def test_duban_mobilize_forks_its_builders_once_for_every_notice(
    server: LocalSmtpServer, tmp_path: Path
) -> None:
    """90 notices, more than the 50 the progress bar once sent at a time: one dispatch, so the
    builders are forked once and stay warm (before: a fork, and everything learnt again, every
    50 notices); each unit still gets one notice."""
    from bench.mobilize import synthetic_campaign

    campaign = synthetic_campaign(tmp_path / "campaign", 70)
    env = {
        "DUBAN_HOME": str(tmp_path / "home"),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": server.url(),
        "DUBAN_NOW": "2026-02-10T09:00",
        "DUBAN_LANG": "en",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
    }
    run = {"capture_output": True, "text": True, "cwd": ROOT, "check": False, "env": _env(env)}
    init = subprocess.run([sys.executable, "-m", "duban", "init", str(campaign)], **run)  # type: ignore[call-overload]
    assert init.returncode == 0, init.stderr
    forks = tmp_path / "forks.json"
    command = [sys.executable, "-c", COUNTING_FORKS, str(forks), "mobilize", str(campaign),
               "--deliverable", "plan"]  # fmt: skip
    result = subprocess.run(command, **run)  # type: ignore[call-overload]
    assert result.returncode == 0, result.stderr
    assert "90 units, 90 sent now" in result.stdout
    assert json.loads(forks.read_text()) == [90]
    recipients = Counter(tuple(sorted(d.rcpt_tos)) for d in server.messages)
    assert len(recipients) == 90
    assert set(recipients.values()) == {1}


def test_a_notice_body_that_cannot_render_stops_the_plan_before_anything_is_sent(
    ledger: Ledger, server: LocalSmtpServer, tmp_path: Path
) -> None:
    """The bodies are rendered when each notice is composed (in the builders), but the first
    draft renders them at once: a template's mistake stops the plan, not the sending."""
    import shutil

    from jinja2 import UndefinedError

    from duban.adapters.render import default_templates

    folder = tmp_path / "templates"
    shutil.copytree(default_templates(), folder)
    body = folder / "zh-CN" / "notice.txt"
    body.write_text(body.read_text(encoding="utf-8") + "{{ no_such_field }}\n", encoding="utf-8")
    with session_scope(ledger.engine) as session, pytest.raises(UndefinedError):
        plan_notices(
            session, ledger.bundle, NoticeRequest("plan"), clock=ledger.clock, secret=SECRET,
            env=environment(folder),
        )  # fmt: skip
    assert server.messages == []
