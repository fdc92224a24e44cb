"""Receiving: every item's raw bytes stored durably, then the item recorded once.

An item is recorded from its headers alone, before anything reads its body: an automatic
message (``automatic``) is set aside at once, and a message whose raw bytes the ledger already
holds is a duplicate of its first record. A message is duban's own only when its Message-ID and
its ``X-Duban-Key`` are those of a message the ledger recorded before sending it: anyone can
write the header (and "Edit as new" in a mail client copies it), so the header alone is an
ordinary reply's. A message the office's receiving server did not confirm as its sender's
(``authentication``) is recorded with that doubt as its reason from the start: its files are
stored and read like any others, and held rather than decided. An item recorded before a
crash is found again by ``(source, ref)`` and gets its earlier row back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.adapters.sources.model import RawItem
from duban.clock import Clock
from duban.implement.intake.authentication import sender_doubt
from duban.implement.intake.automatic import automatic_reason
from duban.implement.intake.chunks import chunks
from duban.implement.intake.decide import Outcome
from duban.implement.intake.model import Envelope
from duban.implement.intake.rawstore import RawStore
from duban.ledger.schema import IntakeRow, MessageRow


def receive(
    session: Session,
    store: RawStore,
    clock: Clock,
    campaign_id: str,
    items: Sequence[RawItem],
    envelopes: Sequence[Envelope | None],
    trusted: Collection[str] = (),
) -> list[IntakeRow]:
    """Store every item's raw bytes durably, then record each item once: its row, in the order
    of ``items`` (an item recorded before a crash gets its earlier row back). ``trusted``: the
    authserv-ids whose ``Authentication-Results`` count."""
    shas = store.put_many(item.data for item in items)
    recorded = _recorded(session, items)
    firsts = _earlier_copies(session, set(shas))
    own = _own_messages(session, envelopes)
    now = clock.now()
    rows: list[IntakeRow] = []
    copies: list[tuple[IntakeRow, IntakeRow]] = []  # (duplicate, its first) within the batch
    for item, envelope, sha in zip(items, envelopes, shas, strict=True):
        row = recorded.get((item.source, item.ref))
        if row is None:
            row = _record(campaign_id, item, envelope, sha, now, own)
            _doubt(row, envelope, trusted)
            if row.status == "received" and sha in firsts:
                row.status, row.reason = Outcome.DUPLICATE.value, "duplicate-message"
                first = firsts[sha]
                if isinstance(first, int):
                    row.detail = {"first": first}
                else:
                    copies.append((row, first))
            elif row.status != Outcome.DUPLICATE.value:
                firsts.setdefault(sha, row)
            session.add(row)
            recorded[(item.source, item.ref)] = row
        rows.append(row)
    session.flush()
    for row, first in copies:  # their first's id is known now
        row.detail = {"first": first.id}
    return rows


def _record(
    campaign_id: str,
    item: RawItem,
    envelope: Envelope | None,
    sha: str,
    now: datetime,
    own: set[tuple[str, str]],
) -> IntakeRow:
    """A new intake row; an automatic message (``own``: duban's, by Message-ID and key) is set
    aside at once."""
    row = IntakeRow(
        campaign_id=campaign_id,
        source=item.source,
        source_ref=item.ref,
        raw_sha256=sha,
        sender=clip(envelope.sender if envelope else None, 254),
        subject=envelope.subject if envelope else item.ref,
        message_id=clip(envelope.message_id if envelope else None, 255),
        in_reply_to=clip(envelope.in_reply_to if envelope else None, 255),
        received_at=item.received_at or now,
        recorded_at=now,
        status="received",
    )
    automatic = (
        None
        if envelope is None
        else automatic_reason(
            envelope.subject, envelope.auto_submitted, own=_sent_key(envelope) in own
        )
    )
    if automatic is not None:
        row.status, row.reason = Outcome.IGNORED.value, automatic
    return row


def _recorded(session: Session, items: Sequence[RawItem]) -> dict[tuple[str, str], IntakeRow]:
    """The rows already recorded for these items, by ``(source, ref)``: one query a source."""
    refs: dict[str, set[str]] = {}
    for item in items:
        refs.setdefault(item.source, set()).add(item.ref)
    found: dict[tuple[str, str], IntakeRow] = {}
    for source, wanted in refs.items():
        for chunk in chunks(sorted(wanted)):
            query = select(IntakeRow).where(
                IntakeRow.source == source, IntakeRow.source_ref.in_(chunk)
            )
            for row in session.scalars(query):
                found[(row.source, row.source_ref)] = row
    return found


def _doubt(row: IntakeRow, envelope: Envelope | None, trusted: Collection[str]) -> None:
    """A received message whose sender the trusted receiving server did not confirm carries
    that reason until it is decided (``settling`` holds it then)."""
    if row.status == "received" and envelope is not None:
        doubt = sender_doubt(envelope.authentication_results, trusted)
        if doubt is not None:
            row.reason, row.detail = doubt.code, {**doubt.detail, "sender": row.sender or "?"}


def _sent_key(envelope: Envelope | None) -> tuple[str, str] | None:
    """The (Message-ID, key) a message of duban's carries, if it carries both."""
    if envelope is None or not envelope.message_id or not envelope.duban_key:
        return None
    return envelope.message_id, envelope.duban_key.strip()


def _own_messages(session: Session, envelopes: Sequence[Envelope | None]) -> set[tuple[str, str]]:
    """The (Message-ID, key) pairs among these that duban recorded before sending them: what
    a sender cannot make up (a Message-ID is random, and recorded under its key)."""
    wanted = {key for key in map(_sent_key, envelopes) if key is not None}
    found: set[tuple[str, str]] = set()
    for chunk in chunks(sorted({message_id for message_id, _ in wanted})):
        query = select(MessageRow.message_id, MessageRow.idempotency_key).where(
            MessageRow.message_id.in_(chunk)
        )
        found.update((m, k) for m, k in session.execute(query).tuples() if m and (m, k) in wanted)
    return found


def _earlier_copies(session: Session, shas: set[str]) -> dict[str, int | IntakeRow]:
    """The first record (not itself a duplicate) of each raw sha already in the ledger."""
    firsts: dict[str, int | IntakeRow] = {}
    for chunk in chunks(sorted(shas)):
        query = (
            select(IntakeRow.raw_sha256, func.min(IntakeRow.id))
            .where(IntakeRow.raw_sha256.in_(chunk), IntakeRow.status != Outcome.DUPLICATE.value)
            .group_by(IntakeRow.raw_sha256)
        )
        for sha, first in session.execute(query).tuples():
            firsts[sha] = first
    return firsts


def clip(value: str | None, limit: int) -> str | None:
    """``value`` cut to the column's length."""
    return None if value is None else value[:limit]
