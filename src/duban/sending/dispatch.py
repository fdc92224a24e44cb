"""Sending with exactly-once intent: every outgoing message is a ledger row before it is sent.

Each message has an idempotency key (for a notice: campaign, deliverable, period, unit and
kind). ``dispatch`` first records an intent row for every key it has not seen, then sends each
row still pending, one at a time, each in its own transaction: the row is locked (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so two workers never send the same row), the message goes out,
the row is marked and committed. Running again, or after a crash, skips what is marked.

The one window left is a crash after the server accepted a message and before its row
committed: that message is sent again on the next run, with the same Message-ID (assigned when
the intent was recorded), which mail clients and servers use to fold the copies into one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
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
    outcomes = []
    for draft in drafts:
        outcome = _send_one(session, draft, mailer, clock)
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


def _send_one(session: Session, draft: Draft, mailer: Mailer, clock: Clock) -> Outcome:
    row = session.scalars(
        select(MessageRow)
        .where(MessageRow.idempotency_key == draft.key, MessageRow.status.in_(RETRY))
        .with_for_update(skip_locked=True)
    ).first()
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
    row.refused = [[address, code, text] for address, (code, text) in result.refused.items()]
    row.status = _status(len(result.accepted), len(result.refused))
    row.sent_at, row.error = clock.now(), None
    return _outcome(row, sent_now=bool(result.accepted))


def _status(accepted: int, refused: int) -> str:
    if not refused:
        return "sent"
    return "partial" if accepted else "refused"


def _recorded(session: Session, draft: Draft) -> Outcome:
    """A draft already handled (or being handled by another worker right now)."""
    row = session.scalars(select(MessageRow).where(MessageRow.idempotency_key == draft.key)).one()
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
