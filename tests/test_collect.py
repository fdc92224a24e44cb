"""Collect end to end: notices out over SMTP, filled workbooks back through SMTP into a real
IMAP server (dovecot), collected, decided, recorded and answered — and crash-proof."""

from __future__ import annotations

import email
import email.policy
import imaplib
import io
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, event, select

import duban.implement.intake.reader as reader_module
import duban.implement.intake.submitting as submitting_module
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.adapters.sources import open_source
from duban.clock import FixedClock
from duban.implement.collect import collect_batch
from duban.implement.intake.answers import AnswerContext, answer_drafts
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.review import accept_held, held_items
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, MessageRow, SubmissionRow
from duban.ledger.store import register
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.campaign import Campaign
from duban.model.loader import CampaignBundle
from duban.model.validation import validate_workbook
from duban.testing.helpers import attachment_of, fill_workbook, reply_to_notice
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE
from .test_intake_cells import protected_ods, xlsb
from .test_intake_files import compound_file

SECRET = b"a test secret of more than sixteen bytes"
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)
ON_TIME = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
LATE = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
USER, PASSWORD = "youhuaban", "intake-pass"
ENV = environment()


def plan_row(n: int = 1, category: str = "教育培训") -> list[Any]:
    return [category, f"任务{n}", f"具体措施{n}", "办公室", "张三", "13800000000", "2026-06-30"]


VALID = [plan_row(1), plan_row(2), plan_row(3)]


@dataclass
class World:
    engine: Engine
    bundle: CampaignBundle
    imap: LocalImapServer
    store: Path
    notices: dict[str, EmailMessage]
    answers: LocalSmtpServer
    delivered: int = 0
    sheet: str = "实施方案"

    def deliver(self, raw: bytes, when: datetime) -> None:
        """What the office's mail server does: file the message with its arrival time."""
        client = imaplib.IMAP4("127.0.0.1", self.imap.port)
        client.login(USER, PASSWORD)
        client.append("INBOX", "", imaplib.Time2Internaldate(when), raw)
        client.logout()
        self.delivered += 1

    def make_reply(
        self,
        unit_id: str,
        rows: list[list[Any]],
        when: datetime = ON_TIME,
        *,
        sender: str | None = None,
        change: Any = None,
        zipped: bool = False,
        attach: bool = True,
    ) -> bytes:
        """A unit's reply to its notice, with its template filled (and perhaps mangled)."""
        notice = self.notices[unit_id]
        name, data = attachment_of(notice)
        filled = fill_workbook(data, self.sheet, rows)
        if change is not None:
            filled = change(filled)
        if zipped:
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w") as z:
                z.writestr(name, filled)
            name, filled = "实施方案.zip", archive.getvalue()
        sender = sender or self.bundle.units_by_id[unit_id].emails[0]
        files = [(name, filled)] if attach else []
        return reply_to_notice(notice, sender, files, when=when)

    def reply(
        self, unit_id: str, rows: list[list[Any]], when: datetime = ON_TIME, **kw: Any
    ) -> bytes:
        raw = self.make_reply(unit_id, rows, when, **kw)
        self.deliver(raw, when)
        return raw

    def collect(self, clock_at: datetime = LATE) -> None:
        source = open_source(self.imap.url(USER, PASSWORD))
        clock = FixedClock(clock_at)
        try:
            with (
                WorkbookReader.for_campaign(self.bundle.campaign) as reader,
                SmtpMailer(parse_smtp_url(self.answers.url())) as mailer,
                session_scope(self.engine) as session,
            ):
                intake = Intake(self.bundle, RawStore(self.store), reader, SECRET, clock)
                while not collect_batch(session, intake, source, mailer, ENV, limit=7).empty:
                    pass
        finally:
            source.close()


@pytest.fixture(scope="module")
def imap() -> Iterator[LocalImapServer]:
    folder = Path(tempfile.mkdtemp(prefix="duban-collect-"))
    folder.chmod(0o711)
    try:
        with LocalImapServer(folder, {USER: PASSWORD}) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def world(imap: LocalImapServer, example_bundle: CampaignBundle, tmp_path: Path) -> Iterator[World]:
    with make_world(
        imap, example_bundle, tmp_path, f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ) as w:
        yield w


@contextmanager
def make_world(
    imap: LocalImapServer,
    example_bundle: CampaignBundle,
    tmp_path: Path,
    ledger_url: str,
    deliverable: str = "plan",
    sheet: str = "实施方案",
) -> Iterator[World]:
    """A registered campaign whose notices of ``deliverable`` (plan) went out, an empty
    mailbox, an SMTP server that catches the answers: on the ledger at ``ledger_url``."""
    _empty_mailbox(imap)
    engine = make_engine(ledger_url)
    migrate(engine)
    clock = FixedClock(NOW)
    with session_scope(engine) as session:
        register(session, example_bundle, clock)
    with LocalSmtpServer() as outgoing, LocalSmtpServer() as answers:
        with session_scope(engine) as session:
            plan = plan_notices(
                session,
                example_bundle,
                NoticeRequest(deliverable),
                clock=clock,
                secret=SECRET,
                env=ENV,
            )
            with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
                send_notices(session, example_bundle, plan.instance_ids, mailer=mailer,
                             clock=clock, secret=SECRET, env=ENV)  # fmt: skip
        notices = notices_by_unit(example_bundle, outgoing)
        yield World(engine, example_bundle, imap, tmp_path / "raw", notices, answers, sheet=sheet)
    engine.dispose()


def notices_by_unit(bundle: CampaignBundle, outgoing: LocalSmtpServer) -> dict[str, EmailMessage]:
    """The notices the server caught, by the unit they went to."""
    notices = {}
    for delivery in outgoing.messages:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        unit = next(u for u in bundle.units if set(u.emails) == set(delivery.rcpt_tos))
        notices[unit.id] = message
    return notices


def _empty_mailbox(imap: LocalImapServer) -> None:
    client = imaplib.IMAP4("127.0.0.1", imap.port)
    client.login(USER, PASSWORD)
    for mailbox in ("INBOX", "duban.processed"):
        status, data = client.select(mailbox)
        if status == "OK" and int(data[0] or 0) > 0:
            client.store("1:*", "+FLAGS", "\\Deleted")
            client.expunge()
    client.logout()


def hostile_bomb(filled: bytes) -> bytes:
    """A workbook carrying a 'picture' that unpacks to 150 MB of zeros (a zip bomb)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(filled)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("xl/media/image1.png", b"\0" * (150 * 2**20))
    return out.getvalue()


def forged_token(data: bytes) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book["_duban"]
    for row in sheet.iter_rows():
        if row[0].value == "token":
            row[1].value = "0" * 32
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SPECIAL = {"T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "B01", "B03", "B05"}


def scenario(world: World) -> None:
    """Thirty units reply the way real units do."""
    for unit in world.bundle.units:
        if unit.id not in SPECIAL:
            world.reply(unit.id, VALID)
    world.reply("T02", [plan_row(1, category="作风建设")])  # not in the dropdown list
    world.deliver(world.reply("T03", VALID), ON_TIME)  # the same message delivered twice
    first = [plan_row(1), plan_row(2), plan_row(9)]
    world.reply("T04", first, when=datetime(2026, 3, 3, 1, 0, tzinfo=UTC))
    world.reply("T04", VALID)  # a corrected, fuller version the next day
    world.reply("T05", VALID, when=LATE)
    # B01 replies with B05's template: another unit's template from a registered address
    world.reply("B05", VALID, sender="shiweiban@jt.example")
    world.reply("T06", VALID, sender="stranger@evil.example")
    world.reply("T07", VALID, change=hostile_bomb)
    world.reply("T08", VALID, zipped=True)
    world.reply("T09", VALID, attach=False)
    world.deliver(forwarded(world.make_reply("B03", VALID), "zuzhibu@jt.example"), ON_TIME)
    world.reply("B05", VALID, change=forged_token)


def forwarded(raw: bytes, sender: str) -> bytes:
    """A unit forwarding its own reply as an attachment (message/rfc822)."""
    inner = email.message_from_bytes(raw, policy=email.policy.default)
    forward = EmailMessage()
    forward["From"] = sender
    forward["To"] = "youhuaban@jt.example"
    forward["Subject"] = "转发：实施方案"
    forward.set_content("转发报送，请查收。")
    forward.add_attachment(inner)
    return forward.as_bytes()


def records(world: World) -> list[tuple[IntakeRow, list[IntakeFileRow]]]:
    with session_scope(world.engine) as session:
        rows = session.scalars(select(IntakeRow).order_by(IntakeRow.id)).all()
        return [
            (row, list(session.scalars(
                select(IntakeFileRow).where(IntakeFileRow.intake_id == row.id)
            )))
            for row in rows
        ]  # fmt: skip


def outcome_of(world: World, unit_id: str) -> list[tuple[str, str | None]]:
    """(status, reason) of every intake record whose workbook names the unit, or from it."""
    unit = world.bundle.units_by_id[unit_id]
    found = []
    for row, files in records(world):
        names_unit = any(f.unit_id == unit_id for f in files)
        from_unit = row.sender is not None and unit.has_address(row.sender)
        if names_unit or (from_unit and not any(f.unit_id for f in files)):
            found.append((row.status, row.reason))
    return found


def answers_by_key(world: World) -> Counter[str]:
    keys = []
    for delivery in world.answers.messages:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        keys.append(str(message["X-Duban-Key"]))
    return Counter(keys)


def answered(world: World) -> dict[str, str]:
    """The text of each answer, by recipient."""
    found = {}
    for delivery in world.answers.messages:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        for to in delivery.rcpt_tos:
            found[to] = body.get_content()
    return found


def test_collect_end_to_end(world: World) -> None:
    scenario(world)
    world.collect()
    all_records = records(world)
    assert len(all_records) == world.delivered  # every message in has its intake record
    ordinary = [u.id for u in world.bundle.units if u.id not in SPECIAL]
    for unit_id in ordinary:
        assert outcome_of(world, unit_id) == [("accepted", "accepted")], unit_id
    assert outcome_of(world, "T02") == [("rejected", "invalid")]
    assert outcome_of(world, "T03") == [
        ("accepted", "accepted"),
        ("duplicate", "duplicate-message"),
    ]
    assert outcome_of(world, "T04") == [("accepted", "accepted")] * 2
    assert outcome_of(world, "T05") == [("accepted", "accepted")]
    assert outcome_of(world, "T06") == [("held", "unknown-sender")]
    assert outcome_of(world, "T07") == [("quarantined", "file:zip-bomb")]
    assert outcome_of(world, "T08") == [("accepted", "accepted")]
    assert outcome_of(world, "T09") == [("rejected", "no-workbook")]
    assert outcome_of(world, "B03") == [("accepted", "accepted")]
    assert sorted(outcome_of(world, "B05")) == [
        ("held", "bad-token"),
        ("held", "other-units-template"),
    ]

    with session_scope(world.engine) as session:
        versions = {
            (i.unit_id, s.version): s
            for s, i in session.execute(
                select(SubmissionRow, InstanceRow).join(
                    InstanceRow, InstanceRow.id == SubmissionRow.instance_id
                )
            ).tuples()
        }
    assert versions[("T04", 1)].rows["实施方案"][2]["task"] == "任务9"
    assert versions[("T04", 2)].rows["实施方案"][2]["task"] == "任务3"
    assert versions[("T05", 1)].on_time is False
    assert versions[("T01", 1)].on_time is True
    assert versions[("T01", 1)].rows["实施方案"][0]["task"] == "任务1"

    answers = answers_by_key(world)
    assert set(answers.values()) == {1}  # one answer per record, never two
    accepted = [r for r, _ in all_records if r.status == "accepted"]
    rejected = [r for r, _ in all_records if r.status in ("rejected", "quarantined")]
    assert len(answers) == len(accepted) + len(rejected)
    t02 = next(d for d in world.answers.messages if "rulinzhen@jt.example" in d.rcpt_tos)
    rejection = email.message_from_bytes(t02.raw, policy=email.policy.default)
    assert isinstance(rejection, EmailMessage)
    body = rejection.get_body(("plain",))
    assert body is not None
    assert "实施方案!A3" in body.get_content()
    assert [a.get_filename() for a in rejection.iter_attachments()] == ["实施方案-儒林镇.xlsx"]

    before = len(world.answers.messages)
    world.collect()  # again: nothing new, nothing twice
    assert len(records(world)) == world.delivered
    assert len(world.answers.messages) == before


def test_a_batchs_answers_are_drafted_in_a_few_queries_whatever_its_size(world: World) -> None:
    """``answer_drafts`` reads the batch's records, files, submissions and instances a query
    each, and keeps the instances, so acknowledging 20 units queries no instance again."""
    scenario(world)
    world.collect()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with session_scope(world.engine) as session:
        ids = list(session.scalars(select(IntakeRow.id).where(IntakeRow.status == "accepted")))
        event.listen(world.engine, "before_cursor_execute", count)
        try:
            context = AnswerContext(world.bundle, SECRET, ENV, NOW)
            drafts = answer_drafts(session, context, ids)
        finally:
            event.remove(world.engine, "before_cursor_execute", count)
    assert len(drafts) >= 20
    assert len(statements) <= 4, statements


def test_held_items_wait_for_review(world: World) -> None:
    world.reply("T06", VALID, sender="stranger@evil.example")
    world.collect()
    with session_scope(world.engine) as session, WorkbookReader(workers=1) as reader:
        intake = Intake(world.bundle, RawStore(world.store), reader, SECRET, FixedClock(LATE))
        [held] = held_items(session, world.bundle)
        assert "stranger@evil.example" in held.reason
        assert held.file_id is not None
        verdict = accept_held(session, intake, held.file_id, "王主任")
        assert verdict.outcome.value == "accepted"
        assert held_items(session, world.bundle) == []
    assert outcome_of(world, "T06") == [("accepted", "accepted")]


KILL_SCRIPT = """
import os, signal, sys
from datetime import datetime
import duban.implement.collect as collect_module
import duban.implement.intake.pipeline as pipeline
from duban.clock import FixedClock
from duban.implement.collect import collect_batch
from duban.implement.intake.answers import AnswerContext, answer_drafts
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.adapters.sources import open_source
from duban.adapters.sources.imap import ImapSource
from duban.ledger.db import make_engine, session_scope
from duban.model.loader import load_campaign
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment

ledger, imap, smtp, store, point = sys.argv[1:6]
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if point == "after-receive":
    pipeline._read_all = die
elif point == "after-decide":
    collect_module.send_answers = die
elif point == "mid-answers":
    real = collect_module.send_recorded
    def send_recorded(*args, **kwargs):
        seen = []
        def after_each(outcome):
            seen.append(outcome)
            if len(seen) == 2:
                die()
        return real(*args, after_each=after_each, **kwargs)
    collect_module.send_recorded = send_recorded
elif point == "before-done":
    ImapSource.done_many = die
bundle = load_campaign({example!r})
source = open_source(imap)
with WorkbookReader.for_campaign(bundle.campaign) as reader, \
        SmtpMailer(parse_smtp_url(smtp)) as mailer, session_scope(make_engine(ledger)) as session:
    intake = Intake(bundle, RawStore(__import__("pathlib").Path(store)), reader, {secret!r},
                    FixedClock(datetime.fromisoformat({now!r})))
    while not collect_batch(session, intake, source, mailer, environment(), limit=50).empty:
        pass
"""


@pytest.mark.parametrize("point", ["after-receive", "after-decide", "mid-answers", "before-done"])
def test_killing_collect_anywhere_loses_nothing_and_records_nothing_twice(
    world: World, point: str
) -> None:
    for unit_id in ("T01", "T02", "B01", "B02"):
        world.reply(unit_id, VALID)
    world.reply("T03", [plan_row(1, category="作风建设")])
    world.reply("T06", VALID, sender="stranger@evil.example")
    script = KILL_SCRIPT.format(example=str(EXAMPLE), secret=SECRET, now=LATE.isoformat())
    ledger = world.engine.url.render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", script, ledger, world.imap.url(USER, PASSWORD),
         world.answers.url(), str(world.store), point],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    world.collect()
    all_records = records(world)
    assert len(all_records) == world.delivered == 6
    assert len({r.source_ref for r, _ in all_records}) == 6
    assert Counter(r.status for r, _ in all_records) == {"accepted": 4, "rejected": 1, "held": 1}
    with session_scope(world.engine) as session:
        assert len(session.scalars(select(SubmissionRow)).all()) == 4
        sent = session.scalars(
            select(MessageRow).where(MessageRow.kind.in_(["ack", "rejection"]))
        ).all()
    assert len(sent) == 5
    assert set(answers_by_key(world).values()) == {1}


def test_a_workbook_resaved_by_libreoffice_is_accepted(world: World, tmp_path: Path) -> None:
    """A unit whose WPS or LibreOffice saves the template as legacy .xls: metadata survives."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed (the Makefile installs it)")
    name, data = attachment_of(world.notices["B04"])
    source = tmp_path / "lo" / name
    source.parent.mkdir()
    source.write_bytes(fill_workbook(data, "实施方案", VALID))
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "xls", "--outdir", str(source.parent), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    resaved = source.with_suffix(".xls").read_bytes()
    sender = world.bundle.units_by_id["B04"].emails[0]
    raw = reply_to_notice(world.notices["B04"], sender, [(name, resaved)])
    world.deliver(raw, ON_TIME)
    world.collect()
    assert outcome_of(world, "B04") == [("accepted", "accepted")]


def test_the_collect_flow_and_its_summary(
    prefect_harness: None, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flows.collect import collect

    for unit_id in ("T01", "T02"):
        world.reply(unit_id, VALID)
    world.reply("T03", [plan_row(1, category="作风建设")])
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DUBAN_DATABASE_URL", world.engine.url.render_as_string(False))
    monkeypatch.setenv("DUBAN_SECRET", SECRET.decode())
    monkeypatch.setenv("DUBAN_SMTP_URL", world.answers.url())
    monkeypatch.setenv("DUBAN_INTAKE", world.imap.url(USER, PASSWORD))
    result = collect(str(EXAMPLE), batch_size=2, as_of=LATE.isoformat())
    assert result == {"received": 3, "answered": 3, "outcomes": {"accepted": 2, "rejected": 1}}
    again = collect(str(EXAMPLE), as_of=LATE.isoformat())
    assert again["received"] == 0


def test_duban_review_lists_and_rejects(world: World, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from duban.cli.app import app

    world.reply("T06", VALID, sender="stranger@evil.example")
    world.collect()
    env = {
        "DUBAN_DATABASE_URL": world.engine.url.render_as_string(False),
        "DUBAN_HOME": str(world.store.parent),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": world.answers.url(),
        "COLUMNS": "200",
    }
    runner = CliRunner()
    listed = runner.invoke(app, ["review", str(EXAMPLE)], env=env)
    assert listed.exit_code == 0, listed.output
    assert "held for review: 1" in listed.output
    assert "stranger@evil.example 不是“指前镇”登记的报送邮箱" in listed.output
    assert "2026-03-04 18:00" in listed.output  # local time, Asia/Shanghai
    item = next(line.split()[0] for line in listed.output.splitlines() if "stranger" in line)
    refused = runner.invoke(app, ["review", str(EXAMPLE), "--reject", item], env=env)
    assert refused.exit_code == 1
    assert "--note" in refused.output
    rejected = runner.invoke(
        app,
        ["review", str(EXAMPLE), "--reject", item, "--note", "非本单位报送", "--by", "李科长"],
        env=env,
    )
    assert rejected.exit_code == 0, rejected.output
    assert answers_by_key(world) == {f"review:{item}": 1}  # the note goes to the sender
    assert "held for review: 0" in runner.invoke(app, ["review", str(EXAMPLE)], env=env).output


def test_compile_what_was_collected(world: World, tmp_path: Path) -> None:
    """The summary workbook and bulletin of the collected plans: counts are the ledger's, every
    accepted row is there once, no unit text is a formula, the bulletin names exactly the late
    and missing units."""
    from docx import Document

    from duban.compile.outputs import compile_outputs

    tricky = [plan_row(1), ["教育培训", "+1项", "@全体人员", "-2科", "张三", "13800000000",
                            "2026-06-30"], plan_row(3)]  # fmt: skip
    scenario(world)
    world.reply("B02", tricky)
    world.collect()
    as_of = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    compiled = compile_outputs(world.engine, world.bundle, "plan", None, as_of=as_of,
                               out=tmp_path / "out", env=ENV, clock=FixedClock(as_of))  # fmt: skip
    with session_scope(world.engine) as session:
        latest: dict[str, SubmissionRow] = {}
        for submission, unit_id in session.execute(
            select(SubmissionRow, InstanceRow.unit_id).join(
                InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
        ).tuples():  # fmt: skip
            if unit_id not in latest or submission.version > latest[unit_id].version:
                latest[unit_id] = submission
        expected_rows = Counter(
            (unit_id, row["task"], row["measures"])
            for unit_id, s in latest.items() for row in s.rows["实施方案"]
        )  # fmt: skip
    book = load_workbook(compiled.workbook)
    detail = list(book["明细"].iter_rows(values_only=True))
    header = detail[0]
    task, measures = header.index("工作任务"), header.index("具体措施")
    assert Counter((r[0], r[task], r[measures]) for r in detail[1:]) == expected_rows
    assert compiled.data.totals.received == len(latest)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), sheet.title
    units = {r[0]: r for r in book["报送情况"].iter_rows(values_only=True)}
    assert set(units) >= {u.id for u in world.bundle.units}
    with zipfile.ZipFile(compiled.workbook) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())

    late = {"薛埠镇"}  # T05 replied on 9 March
    missing = {"市委办公室", "指前镇", "市纪委监委"}  # B01 T06 B05: their files are held
    # T02 (invalid cells), T07 (quarantined) and T09 (no workbook) replied to the notice and
    # were refused: returned, awaiting a new submission, not missing
    returned = {"儒林镇", "尧塘镇", "东城街道"}
    text = compiled.bulletin.text
    lines = [line for line in text.splitlines() if line.strip()]
    late_line = lines[next(i for i, line in enumerate(lines) if "逾期报送的单位" in line) + 1]
    missing_line = lines[next(i for i, line in enumerate(lines) if "未报送的单位" in line) + 1]
    returned_line = lines[next(i for i, line in enumerate(lines) if "被退回待重新" in line) + 1]
    names = {u.name for u in world.bundle.units}
    assert {n for n in names if n in late_line} == late
    assert {n for n in names if n in missing_line} == missing
    assert {n for n in names if n in returned_line} == returned
    docx_text = "\n".join(p.text for p in Document(str(compiled.docx)).paragraphs)
    for name in late | missing | returned:
        assert name in docx_text
    assert "儒林镇" in compiled.bulletin.html  # T02: returned, awaiting a corrected file


def test_compiling_from_the_raw_files_gives_the_same_content(world: World, tmp_path: Path) -> None:
    from duban.compile.gather import rows_from_raw
    from duban.compile.outputs import compile_outputs

    for unit_id in ("T01", "T02", "B02"):
        world.reply(unit_id, VALID)
    world.reply("T04", [plan_row(1), plan_row(2), plan_row(9)])
    world.reply("T04", VALID, when=datetime(2026, 3, 5, 1, 0, tzinfo=UTC))  # version 2 counts
    world.collect()
    as_of = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    form = world.bundle.campaign.form("plan")

    def detail(**kw: Any) -> list[tuple[Any, ...]]:
        compiled = compile_outputs(world.engine, world.bundle, "plan", "once", as_of=as_of,
                                   env=ENV, clock=FixedClock(as_of), **kw)  # fmt: skip
        return list(load_workbook(compiled.workbook)["明细"].iter_rows(values_only=True))

    stored = detail(out=tmp_path / "stored")
    with WorkbookReader(workers=1) as reader:
        raw = detail(out=tmp_path / "raw", rows=rows_from_raw(RawStore(world.store), reader, form))
    assert raw == stored
    assert len(stored) == 1 + 4 * 3
    assert [r[2] for r in stored[1:] if r[0] == "T04"] == [2, 2, 2]  # the version column


def test_a_reply_collected_after_the_review_is_in_what_is_sent(
    world: World, tmp_path: Path
) -> None:
    """``compile --send`` reuses the reviewed files only while nothing changed: a unit's second
    version collected after the review (on time as before, other rows) makes it write them
    again with that version's rows; a send after that, with nothing new, reuses those."""
    from duban.compile.outputs import compile_outputs

    def compiled_at(hour: int, reuse: bool) -> Any:
        as_of = datetime(2026, 3, 10, hour, 0, tzinfo=UTC)
        return compile_outputs(world.engine, world.bundle, "plan", "once", as_of=as_of,
                               out=tmp_path / "out", env=ENV, clock=FixedClock(as_of),
                               reuse=reuse)  # fmt: skip

    world.reply("T01", VALID)
    world.collect()
    assert not compiled_at(1, reuse=False).reused
    second = [plan_row(7), plan_row(8), plan_row(9)]
    world.reply("T01", second, when=datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    world.collect()
    again = compiled_at(2, reuse=True)
    assert not again.reused
    assert again.stats.versions_used == [("T01", 2, again.stats.versions_used[0][2])]
    detail = list(load_workbook(again.workbook)["明细"].iter_rows(values_only=True))
    assert [r[2] for r in detail[1:]] == [2, 2, 2]  # the version column: the second file's rows
    kept = compiled_at(3, reuse=True)
    assert kept.reused
    assert kept.data.as_of == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    assert kept.stats == again.stats


def test_a_workbook_no_reader_opens_is_answered_with_what_it_is(world: World) -> None:
    """A password-protected .xlsx, an .xlsb and a protected .ods were answered "no workbook
    attached"; each is named for what it is, and a quarantine reason ends its sentence once."""
    world.reply(
        "T01", VALID, change=lambda _: compound_file(["EncryptionInfo", "EncryptedPackage"])
    )
    world.reply("T02", VALID, change=lambda _: xlsb())
    world.reply("T03", VALID, change=lambda _: protected_ods())
    world.reply("T07", VALID, change=hostile_bomb)
    world.collect()
    assert outcome_of(world, "T01") == [("rejected", "file:encrypted")]
    assert outcome_of(world, "T02") == [("rejected", "file:xlsb")]
    assert outcome_of(world, "T03") == [("rejected", "file:encrypted")]
    assert outcome_of(world, "T07") == [("quarantined", "file:zip-bomb")]
    bodies = answered(world)
    emails = {u: world.bundle.units_by_id[u].emails[0] for u in ("T01", "T02", "T03", "T07")}
    assert "取消密码" in bodies[emails["T01"]]
    assert ".xlsx" in bodies[emails["T02"]]
    assert "另存为" in bodies[emails["T02"]]
    assert "取消密码" in bodies[emails["T03"]]
    assert "隔离" in bodies[emails["T07"]]
    for text in bodies.values():
        assert "没有找到" not in text
        assert "。。" not in text


@pytest.mark.parametrize("workers_validate", [True, False], ids=["in-the-workers", "here"])
def test_a_workbook_is_validated_once(
    world: World, monkeypatch: pytest.MonkeyPatch, workers_validate: bool
) -> None:
    """Each identified workbook, accepted or not, is validated exactly once: by the worker that
    read it (its result used as it is) or, when the workers have no forms, by the intake
    process; never by both, never twice."""
    for unit_id in ("T01", "T04", "B02"):
        world.reply(unit_id, VALID)
    world.reply("T02", [plan_row(1, category="作风建设")])  # invalid: validated once too
    validated = Counter[str]()
    decode = reader_module._decode  # a worker's validation is seen in the answer it sends

    def decoded(message: object) -> Any:
        result = decode(message)
        if isinstance(result, ParsedWorkbook) and result.prevalidated is not None:
            validated["in a worker"] += 1
        return result

    def validated_here(*args: Any, **kwargs: Any) -> Any:
        validated["here"] += 1
        return validate_workbook(*args, **kwargs)

    def without_forms(cls: type[WorkbookReader], campaign: Campaign) -> WorkbookReader:
        return cls()

    monkeypatch.setattr(reader_module, "_decode", decoded)
    monkeypatch.setattr(submitting_module, "validate_workbook", validated_here)
    if not workers_validate:
        monkeypatch.setattr(WorkbookReader, "for_campaign", classmethod(without_forms))
    world.collect()
    for unit_id in ("T01", "T04", "B02"):
        assert outcome_of(world, unit_id) == [("accepted", "accepted")]
    assert outcome_of(world, "T02") == [("rejected", "invalid")]
    where = "in a worker" if workers_validate else "here"
    assert validated == {where: 4}
