"""Sending with exactly-once intent: every outgoing message is a ledger row before it is sent.

Each message has an idempotency key (for a notice: campaign, deliverable, period, unit and
kind). ``dispatch`` first records an intent row for every key it has not seen, then sends each
row still pending, one at a time. A row is *claimed* before it is sent: a conditional UPDATE
sets it from 'pending' or 'failed' to 'sending' with this run's id and commits; only the run
whose UPDATE changed the row sends it, so two runs (processes, workers, a cron job and a manual
run) never send the same message, on SQLite as on PostgreSQL (SQLite has no ``SKIP LOCKED``).
After the send the row is marked sent, partial, refused or failed and committed.

A run interrupted while sending gives its claim back (the row goes to 'failed'); a row left
'sending' by a run that was killed becomes claimable again once its ``claimed_at`` is older
than ``CLAIM_WINDOW`` by the clock, so nothing is lost. That, and a crash after the
server accepted a message and before its row committed, are the windows left: the message is
sent again, with the same Message-ID (assigned when the intent was recorded), which mail
clients and servers use to fold the copies into one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from duban.adapters.mail.errors import MailConnectionError
from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import OutgoingMessage, build, make_message_id
from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.schema import MessageRow

DONE = frozenset({"sent", "partial", "refused"})
RETRY = ("pending", "failed")
SENDING = "sending"
# A claim older than this is taken to be a crashed run's: long enough for any single send.
CLAIM_WINDOW = timedelta(minutes=15)


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


def dispatch(
    session: Session,
    drafts: Sequence[Draft],
    mailer: Mailer,
    clock: Clock,
    *,
    message_id_domain: str,
    after_each: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send every draft not sent before; commits after each message (see module docstring)."""
    record_intents(session, drafts, clock, message_id_domain)
    session.commit()
    run_id = new_run_id()
    outcomes = []
    for draft in drafts:
        outcome = _send_one(session, draft, mailer, clock, run_id)
        session.commit()
        outcomes.append(outcome)
        if after_each is not None:
            after_each(outcome)
    return outcomes


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


def claim(session: Session, key: str, run_id: str, clock: Clock) -> MessageRow | None:
    """Claim the row under ``key`` for this run and commit, or None if it is done or another
    run holds it. The UPDATE's WHERE is the claim: the database applies it to one run only."""
    now = clock.now()
    claimable = or_(
        MessageRow.status.in_(RETRY),
        and_(MessageRow.status == SENDING, MessageRow.claimed_at < now - CLAIM_WINDOW),
    )
    result = session.execute(
        update(MessageRow)
        .where(MessageRow.idempotency_key == key, claimable)
        .values(status=SENDING, claimed_by=run_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if getattr(result, "rowcount", 0) != 1:
        return None
    fresh = select(MessageRow).where(MessageRow.idempotency_key == key)
    return session.scalars(fresh.execution_options(populate_existing=True)).one()


def _send_one(session: Session, draft: Draft, mailer: Mailer, clock: Clock, run_id: str) -> Outcome:
    row = claim(session, draft.key, run_id, clock)
    if row is None:
        return _recorded(session, draft)
    message_id = row.message_id or make_message_id("duban.invalid")
    try:
        result = mailer.send(build(draft.compose(message_id)))
    except MailConnectionError as error:
        # The server is gone: record it and stop the batch; the next run retries the rest.
        row.status, row.error = "failed", str(error)
        session.commit()
        raise
    except DubanError as error:  # this message only (bad data in it): record, go on
        row.status, row.error = "failed", str(error)
        return _outcome(row, sent_now=False)
    except BaseException:
        # Interrupted (Ctrl-C, a worker stopping): give the claim back so the next run retries
        # at once, under the same Message-ID; only a killed run leaves it to CLAIM_WINDOW.
        row.status, row.error = "failed", "interrupted while sending"
        session.commit()
        raise
    row.refused = [[address, code, text] for address, (code, text) in result.refused.items()]
    row.status = _status(len(result.accepted), len(result.refused))
    row.sent_at, row.error = clock.now(), None
    return _outcome(row, sent_now=bool(result.accepted))


def _status(accepted: int, refused: int) -> str:
    if not refused:
        return "sent"
    return "partial" if accepted else "refused"


def _recorded(session: Session, draft: Draft) -> Outcome:
    """A draft already handled (or being handled by another run right now)."""
    query = select(MessageRow).where(MessageRow.idempotency_key == draft.key)
    row = session.scalars(query.execution_options(populate_existing=True)).one()
    return _outcome(row, sent_now=False)


def _outcome(row: MessageRow, *, sent_now: bool) -> Outcome:
    refused = {str(item[0]): (item[1], item[2]) for item in row.refused}
    return Outcome(
        key=row.idempotency_key,
        status=row.status,
        recipients=tuple(row.recipients),
        message_id=row.message_id,
        refused=refused,
        error=row.error,
        sent_now=sent_now,
    )
