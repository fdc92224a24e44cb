"""A board to drive from a browser: the example campaign's ledger (SQLite) with replies on time,
late, missing and held for review, two accounts, and ``duban board``'s app served by uvicorn on
a loopback port in a background thread.

The ledger is made the way a campaign makes it: notices sent over a loopback SMTP server, the
units' replies delivered into a Maildir (each file's time is its arrival) and collected by the
real intake. The board's clock is fixed (``Settings.now``), so no page depends on the wall clock.
"""

from __future__ import annotations

import mailbox
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import uvicorn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.adapters.sources import open_source
from duban.board import accounts
from duban.board.app import create_app
from duban.board.context import Board
from duban.clock import Clock, FixedClock
from duban.implement.collect import collect_batch
from duban.implement.duties import exempt, extend, find_duty
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import IntakeFileRow
from duban.ledger.store import register
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.loader import CampaignBundle
from duban.settings import Settings
from duban.testing.helpers import attachment_of, fill_workbook, reply_to_notice
from duban.testing.mailserver import LocalSmtpServer

from .test_collect import notices_by_unit

SECRET = "a board test secret of more than sixteen bytes"
BOARD_NOW = "2026-03-12 10:00"  # Asia/Shanghai; the plan was due on 5 March
NOTICES_AT = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)
ON_TIME = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
LATE = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
CORRECTED = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
COLLECTED_AT = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)

COORDINATOR = ("li.kezhang", "coordinator-pass-1")
VIEWER = ("wang.lingdao", "viewer-pass-12")

ON_TIME_UNITS = ("T01", "T02", "T04", "T05", "B01", "B02", "B03", "B04")
LATE_WITH_HELD = "T06"
"""Replied late from its own address, then sent a corrected version from a personal mailbox:
late, with that second file held for review."""
LATE_UNITS = ("T03", LATE_WITH_HELD)
EXTENDED_UNIT, EXEMPT_UNIT = "T07", "Z01"
HELD_ONLY = "T08"
"""Only a stranger's reply to its notice: held, not missing (left held by every test)."""
STRANGER = "stranger@evil.example"


def plan_row(n: int) -> list[object]:
    return ["教育培训", f"任务{n}", f"具体措施{n}", "办公室", "张三", "13800000000", "2026-06-30"]


@dataclass(frozen=True)
class BoardSite:
    """A running board and what the fixture put in its ledger."""

    url: str
    campaign_id: str
    engine: Engine
    bundle: CampaignBundle
    held_of_late: str
    """The held file of ``LATE_WITH_HELD``, as the board names it (``F<n>``)."""
    held_other: str
    """The held file of ``HELD_ONLY``."""


def _notices(
    engine: Engine, bundle: CampaignBundle, secret: bytes, outgoing: LocalSmtpServer
) -> dict[str, EmailMessage]:
    """The plan's notices, sent over SMTP, by the unit they went to."""
    clock, env = FixedClock(NOTICES_AT), environment()
    with session_scope(engine) as session:
        register(session, bundle, clock)
        plan = plan_notices(session, bundle, NoticeRequest("plan"), clock=clock, secret=secret,
                            env=env)  # fmt: skip
        with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
            send_notices(session, bundle, plan.instance_ids, mailer=mailer, clock=clock,
                         secret=secret, env=env)  # fmt: skip
    return notices_by_unit(bundle, outgoing)


Delivery = tuple[bytes, datetime]


def _replies(bundle: CampaignBundle, notices: dict[str, EmailMessage]) -> list[Delivery]:
    def reply(unit_id: str, when: datetime, sender: str | None = None, n: int = 1) -> Delivery:
        name, template = attachment_of(notices[unit_id])
        filled = fill_workbook(template, "实施方案", [plan_row(n + i) for i in range(3)])
        sender = sender or bundle.units_by_id[unit_id].emails[0]
        return reply_to_notice(notices[unit_id], sender, [(name, filled)], when=when), when

    return [
        *(reply(unit, ON_TIME) for unit in ON_TIME_UNITS),
        *(reply(unit, LATE) for unit in LATE_UNITS),
        reply(LATE_WITH_HELD, CORRECTED, sender="liaison.t06@qq.example", n=3),
        reply(HELD_ONLY, ON_TIME, sender=STRANGER),
    ]


def _deliver(folder: Path, replies: list[Delivery]) -> None:
    """Into a Maildir as the mail system would: the file's time is the arrival time."""
    box = mailbox.Maildir(folder, create=True)
    for raw, when in replies:
        key = box.add(raw)
        stamp = when.timestamp()
        os.utime(folder / "new" / key, (stamp, stamp))


def _collect(engine: Engine, bundle: CampaignBundle, settings: Settings, folder: Path) -> None:
    source = open_source(f"maildir:{folder}")
    try:
        with (
            LocalSmtpServer() as answers,
            WorkbookReader.for_campaign(bundle.campaign, workers=1) as reader,
            SmtpMailer(parse_smtp_url(answers.url())) as mailer,
            session_scope(engine) as session,
        ):
            intake = Intake(bundle, RawStore(settings.raw_store), reader, settings.secret_key(),
                            FixedClock(COLLECTED_AT))  # fmt: skip
            while not collect_batch(session, intake, source, mailer, environment(), limit=20).empty:
                pass
    finally:
        source.close()


def build_ledger(home: Path, bundle: CampaignBundle) -> Settings:
    """The example campaign on the day the board is looked at (see the module's constants)."""
    settings = Settings(home=home, secret=SECRET, now=BOARD_NOW)
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.ledger_url)
    try:
        migrate(engine)
        with LocalSmtpServer() as outgoing:
            notices = _notices(engine, bundle, settings.secret_key(), outgoing)
        _deliver(home / "Maildir", _replies(bundle, notices))
        _collect(engine, bundle, settings, home / "Maildir")
        with session_scope(engine) as session:
            clock = settings.clock()
            _grant(session, bundle, clock)
            accounts.add_user(session, clock, *COORDINATOR, "coordinator")
            accounts.add_user(session, clock, *VIEWER, "viewer")
    finally:
        engine.dispose()
    return settings


def _grant(session: Session, bundle: CampaignBundle, clock: Clock) -> None:
    """An extension and an exemption, as a coordinator grants them, for the matrix's colours."""
    extended = find_duty(session, bundle, "plan", EXTENDED_UNIT, None)
    extend(session, bundle, extended, date(2026, 3, 20), reason="单位合并，延期报送",
           actor=COORDINATOR[0], clock=clock)  # fmt: skip
    exempted = find_duty(session, bundle, "plan", EXEMPT_UNIT, None)
    exempt(session, exempted, reason="已撤并", actor=COORDINATOR[0], clock=clock)


def held_file_of(engine: Engine, unit_id: str) -> str:
    """The id (``F<n>``) of the one file of ``unit_id`` that intake held."""
    with session_scope(engine) as session:
        [file_id] = session.scalars(
            select(IntakeFileRow.id).where(
                IntakeFileRow.unit_id == unit_id, IntakeFileRow.outcome == "held"
            )
        ).all()
    return f"F{file_id}"


@contextmanager
def serving(board: Board) -> Iterator[str]:
    """``duban board``'s app on a free loopback port, in a thread; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(board), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the board stopped while starting"
            assert time.monotonic() < deadline, "the board did not start in 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@contextmanager
def running_board(home: Path, bundle: CampaignBundle, campaign_file: Path) -> Iterator[BoardSite]:
    settings = build_ledger(home, bundle)
    board = Board.open(settings, [campaign_file])
    try:
        held_late = held_file_of(board.engine, LATE_WITH_HELD)
        held_other = held_file_of(board.engine, HELD_ONLY)
        with serving(board) as url:
            yield BoardSite(url, bundle.campaign.id, board.engine, bundle, held_late, held_other)
    finally:
        board.engine.dispose()
