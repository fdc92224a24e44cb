"""Sending with exactly-once intent: every outgoing message is a ledger row before it is sent.

Each message has an idempotency key (for a notice: campaign, deliverable, period, unit and
kind). ``dispatch`` first records an intent row for every key it has not seen, then sends the
rows still pending a group of up to ``GROUP`` at a time. A group is *claimed* before it is
sent: one conditional UPDATE sets its rows from 'pending' or 'failed' to 'sending' with this
run's id and commits; only the run whose UPDATE changed a row sends it, so two runs (processes,
workers, a cron job and a manual run) never send the same message, on SQLite as on PostgreSQL
(SQLite has no ``SKIP LOCKED``). Once the group is sent, its rows are marked sent, partial,
refused or failed in one commit.

Two commits a group rather than two a message is what keeps the ledger's share of sending
small (issue 20). The price is the window a crash leaves: a run interrupted while sending
marks what it sent and gives the rest of its claims back; a run *killed* mid-group leaves the
whole group 'sending', and those rows become claimable again once their ``claimed_at`` is older
than ``CLAIM_WINDOW`` by the clock, so nothing is lost, but up to ``GROUP`` messages the server
had already accepted are sent again, with the same Message-IDs (assigned when the intents were
recorded), which mail clients and servers use to fold the copies into one.

A group's messages are built ahead, in forked processes, while the ones before are sent
(``sending.ahead``); the claims, the sending and the marks stay in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import uuid4

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from duban.adapters.mail.errors import MailConnectionError
from duban.adapters.mail.mailer import Mailer, SendResult, SmtpMailer, Wire, settle_kept
from duban.adapters.mail.message import OutgoingMessage, make_message_id
from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.schema import MessageRow
from duban.sending.ahead import Ahead, Built

DONE = frozenset({"sent", "partial", "refused"})
RETRY = ("pending", "failed")
SENDING = "sending"
# A claim older than this is taken to be a crashed run's: long enough for any group's sends.
CLAIM_WINDOW = timedelta(minutes=15)
GROUP = 50
"""Messages claimed in one commit and marked in one more; also the most a killed run's
successor may send twice."""


@dataclass(frozen=True)
class Draft:
    """A message that should exist once: its key, its recipients and how to compose it.

    ``compose`` receives the Message-ID recorded with the intent and builds the message; it is
    only called when the message is really about to be sent (attachments are made then).
    """

    key: str
    kind: str
    campaign_id: str
    instance_id: int | None
    recipients: tuple[str, ...]
    subject: str
    compose: Callable[[str], OutgoingMessage]


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str
    recipients: tuple[str, ...]
    message_id: str | None
    refused: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    sent_now: bool = False
    claimed: bool = False  # this run claimed it and tried to send it (whatever came of it)


def dispatch(
    session: Session,
    drafts: Sequence[Draft],
    mailer: Mailer,
    clock: Clock,
    *,
    message_id_domain: str,
    after_each: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send every draft not sent before, ``GROUP`` at a time (see module docstring);
    ``after_each`` sees each outcome before its group's marks are committed, so what it adds
    to the session is committed with them."""
    record_intents(session, drafts, clock, message_id_domain)
    session.commit()
    return send_recorded(session, drafts, mailer, clock, after_each=after_each)


def send_recorded(
    session: Session,
    drafts: Sequence[Draft],
    mailer: Mailer,
    clock: Clock,
    *,
    after_each: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """``dispatch`` after its intents are committed: claim, send and mark the drafts a group
    at a time (collect records a batch's answers before it lets go of their replies, and
    sends them while it reads the next batch)."""
    run_id = new_run_id()
    outcomes: list[Outcome] = []
    with Ahead(drafts, mailer) as ahead:
        for start in range(0, len(drafts), GROUP):
            group = Group(drafts, start, ahead)
            outcomes += _send_group(session, group, mailer, clock, run_id, after_each)
    return outcomes


@dataclass(frozen=True)
class Group:
    """``GROUP`` drafts from ``start`` of a dispatch's, and what builds their messages."""

    drafts: Sequence[Draft]
    start: int
    ahead: Ahead

    @property
    def members(self) -> Sequence[Draft]:
        return self.drafts[self.start : self.start + GROUP]

    def build_ahead(self, claimed: dict[str, MessageRow]) -> None:
        """Start building the messages this run claimed, in order."""
        jobs = [
            (index, _message_id(claimed[draft.key]))
            for index, draft in enumerate(self.members, start=self.start)
            if draft.key in claimed
        ]
        self.ahead.start(jobs)

    def built(self, offset: int, row: MessageRow) -> Built:
        return self.ahead.take(self.start + offset, _message_id(row))


def _message_id(row: MessageRow) -> str:
    return row.message_id or make_message_id("duban.invalid")


def record_intents(
    session: Session, drafts: Sequence[Draft], clock: Clock, message_id_domain: str
) -> None:
    """Insert a pending row for each new key; existing keys are left exactly as they are."""
    if not drafts:
        return
    now = clock.now()
    rows = [
        {
            "idempotency_key": d.key,
            "campaign_id": d.campaign_id,
            "instance_id": d.instance_id,
            "kind": d.kind,
            "recipients": list(d.recipients),
            "subject": d.subject,
            "message_id": make_message_id(message_id_domain),
            "status": "pending",
            "refused": [],
            "created_at": now,
        }
        for d in drafts
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), 500):
        statement = insert(MessageRow).values(rows[start : start + 500])
        session.execute(statement.on_conflict_do_nothing(index_elements=["idempotency_key"]))


def new_run_id() -> str:
    """An id for one run's claims: unique across processes and machines."""
    return uuid4().hex


def claim(
    session: Session, keys: Sequence[str], run_id: str, clock: Clock
) -> dict[str, MessageRow]:
    """Claim the rows under ``keys`` that no run holds and are not done, for this run, and
    commit: those rows, by key. The UPDATE's WHERE is the claim: the database applies it to
    one run only."""
    now = clock.now()
    claimable = or_(
        MessageRow.status.in_(RETRY),
        and_(MessageRow.status == SENDING, MessageRow.claimed_at < now - CLAIM_WINDOW),
    )
    session.execute(
        update(MessageRow)
        .where(MessageRow.idempotency_key.in_(keys), claimable)
        .values(status=SENDING, claimed_by=run_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return {row.idempotency_key: row for row in _rows(session, keys) if _holds(row, run_id)}


def _holds(row: MessageRow, run_id: str) -> bool:
    return row.status == SENDING and row.claimed_by == run_id


def _rows(session: Session, keys: Sequence[str]) -> Sequence[MessageRow]:
    """The rows under ``keys`` as the database has them now."""
    query = select(MessageRow).where(MessageRow.idempotency_key.in_(keys))
    return session.scalars(query.execution_options(populate_existing=True)).all()


def _send_group(
    session: Session,
    group: Group,
    mailer: Mailer,
    clock: Clock,
    run_id: str,
    after_each: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    """Claim the group, send what this run claimed, mark it all in one commit; drafts done
    before (or being sent by another run now) come back as they are recorded."""
    members = group.members
    claimed = claim(session, [d.key for d in members], run_id, clock)
    others = {} if len(claimed) == len(members) else _by_key(session, members, claimed)
    outcomes: list[Outcome] = []
    try:
        group.build_ahead(claimed)
        for offset, draft in enumerate(members):
            row = claimed.get(draft.key)
            outcome = (
                _outcome(others[draft.key], sent_now=False)
                if row is None
                else _send_claimed(row, partial(group.built, offset, row), mailer, clock)
            )
            outcomes.append(outcome)
            if after_each is not None:
                after_each(outcome)
    except BaseException:
        _give_back(claimed.values(), run_id)
        _commit_marks(session, mailer)
        raise
    _commit_marks(session, mailer)
    return outcomes


def _commit_marks(session: Session, mailer: Mailer) -> None:
    """Commit a group's marks once the bytes the mailer kept of its messages are durable:
    the hashes the marks record must name objects in the store."""
    settle_kept(mailer)
    session.commit()


def _by_key(
    session: Session, group: Sequence[Draft], claimed: dict[str, MessageRow]
) -> dict[str, MessageRow]:
    unclaimed = [d.key for d in group if d.key not in claimed]
    return {row.idempotency_key: row for row in _rows(session, unclaimed)}


def _give_back(rows: Iterable[MessageRow], run_id: str) -> None:
    """Interrupted (Ctrl-C, a worker stopping, the server gone): the group's rows not sent yet
    go back to 'failed', so the next run retries them at once under the same Message-IDs; only
    a killed run leaves its claims to ``CLAIM_WINDOW``."""
    for row in rows:
        if _holds(row, run_id):
            row.status = "failed"
            row.error = row.error or "interrupted before it was sent"


def _send_claimed(
    row: MessageRow, built: Callable[[], Built], mailer: Mailer, clock: Clock
) -> Outcome:
    """Send one claimed row and set its outcome (committed with the group's)."""
    try:
        result = _deliver(mailer, built())
    except MailConnectionError as error:
        # The server is gone: record it and stop; the next run retries the rest.
        row.status, row.error = "failed", str(error)
        raise
    except DubanError as error:  # this message only (bad data in it): record, go on
        row.status, row.error = "failed", str(error)
        return _outcome(row, sent_now=False, claimed=True)
    except BaseException:
        row.status, row.error = "failed", "interrupted while sending"
        raise
    row.refused = [[address, code, text] for address, (code, text) in result.refused.items()]
    row.status = _status(len(result.accepted), len(result.refused))
    row.sent_at, row.error = clock.now(), None
    row.raw_sha256 = result.kept or row.raw_sha256
    return _outcome(row, sent_now=bool(result.accepted), claimed=True)


def _deliver(mailer: Mailer, built: Built) -> SendResult:
    """A message built here goes to any mailer; a ``Wire`` comes only with an SMTP mailer."""
    if isinstance(built, Wire):
        if not isinstance(mailer, SmtpMailer):  # Ahead makes none for another mailer
            raise TypeError(f"{type(mailer).__name__} cannot send a prepared message")
        return mailer.send_wire(built)
    return mailer.send(built)


def _status(accepted: int, refused: int) -> str:
    if not refused:
        return "sent"
    return "partial" if accepted else "refused"


def _outcome(row: MessageRow, *, sent_now: bool, claimed: bool = False) -> Outcome:
    refused = {str(item[0]): (item[1], item[2]) for item in row.refused}
    return Outcome(
        key=row.idempotency_key,
        status=row.status,
        recipients=tuple(row.recipients),
        message_id=row.message_id,
        refused=refused,
        error=row.error,
        sent_now=sent_now,
        claimed=claimed,
    )
