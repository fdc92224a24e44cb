"""A hash chain over each campaign's event log (issue 19): every event's link records the
hash of the link before, so an event edited, removed or slipped in anywhere breaks every link
after it, in the live ledger and in an archive alike.

``link_hash(prev, event)`` is SHA-256 over ``CHAIN_VERSION``, the previous hash and the event's
canonical JSON (id, time in UTC, campaign, kind, subject, actor, payload; keys sorted, UTF-8,
no spaces). The first link's previous hash is ``GENESIS`` (64 zeros).

``link_event`` (``link_events`` for several) appends the link of an event just added, in the
caller's transaction: it takes the ledger's write lock for the chain (``hold_write_lock``: a
PostgreSQL advisory lock named after the campaign, held to the commit; on SQLite the
database's write lock), so two writers of one campaign take turns, and each reads the head the
other committed. Events of different campaigns do not wait for each other on PostgreSQL. That
is the price: a transaction that appends an event holds its campaign's chain until it commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.db import hold_write_lock
from duban.ledger.schema import EventLinkRow, EventRow

CHAIN_VERSION = "duban-events/1"
GENESIS = "0" * 64
_HEADS = "duban.event_chain_heads"


def canonical_event(
    event_id: int, at: datetime, campaign_id: str | None, kind: str, subject: str | None,
    actor: str, payload: Any,
) -> bytes:  # fmt: skip
    """The bytes an event's link hashes: the same from a live row or an archived line."""
    fields = {"id": event_id, "at": at.astimezone(UTC).isoformat(), "campaign_id": campaign_id,
              "kind": kind, "subject": subject, "actor": actor, "payload": payload}  # fmt: skip
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def link_hash(prev: str, event: bytes) -> str:
    return hashlib.sha256(f"{CHAIN_VERSION}\n{prev}\n".encode() + event).hexdigest()


def row_bytes(row: EventRow) -> bytes:
    payload = json.loads(json.dumps(row.payload, default=str))  # as the ledger gives it back
    return canonical_event(row.id, row.at, row.campaign_id, row.kind, row.subject, row.actor,
                           payload)  # fmt: skip


def link_event(session: Session, row: EventRow) -> EventLinkRow:
    """Give the event just added its link (see the module docstring)."""
    return link_events(session, [row])[0]


def link_events(session: Session, rows: Sequence[EventRow]) -> list[EventLinkRow]:
    """Give the events just added their links, in order: one flush gives them all their
    ids, where a flush each cost a third of an intake record's ledger work (issue 20)."""
    connection = session.connection()  # the transaction begun: the heads are this one's
    heads = _heads(session)
    for chain in dict.fromkeys(row.campaign_id or "" for row in rows):
        if chain not in heads:
            hold_write_lock(connection, f"events:{chain}")
            heads[chain] = _head(session, chain)
    session.flush(rows)
    return [_link(session, heads, row) for row in rows]


def _link(session: Session, heads: dict[str, tuple[int, str]], row: EventRow) -> EventLinkRow:
    """The next link of the event's chain, added; the chain's head moved to it."""
    chain = row.campaign_id or ""
    seq, prev = heads[chain]
    link = EventLinkRow(event_id=row.id, chain=chain, seq=seq + 1, prev_sha256=prev,
                        sha256=link_hash(prev, row_bytes(row)))  # fmt: skip
    session.add(link)
    heads[chain] = (seq + 1, link.sha256)
    return link


def _heads(session: Session) -> dict[str, tuple[int, str]]:
    """The heads this transaction has read and moved, by chain: once a transaction holds a
    chain's lock, nobody else moves its head until the commit, so it is read once (a rolled
    back or committed transaction's heads are never used again: a new one starts afresh)."""
    transaction = session.get_transaction()
    cached = session.info.get(_HEADS)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_HEADS] = cached
    heads: dict[str, tuple[int, str]] = cached[1]
    return heads


def _head(session: Session, chain: str) -> tuple[int, str]:
    head = session.execute(
        select(EventLinkRow.seq, EventLinkRow.sha256)
        .where(EventLinkRow.chain == chain)
        .order_by(EventLinkRow.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if head is None else (head.seq, head.sha256)


def chain_head(session: Session, chain: str) -> tuple[int, str]:
    """The last link of a chain: how many events it holds and the hash to note elsewhere."""
    return _head(session, chain)


@dataclass(frozen=True)
class Break:
    """Where a chain does not hold: the event (or link number) and what is wrong."""

    where: str
    message: str
    zh: str


def check_links(links: Iterable[tuple[int, str, str, bytes | None]]) -> Iterator[Break]:
    """Walk a chain given in order as (event id, prev, sha256, event bytes or None when the
    event is gone); every link whose previous hash or own hash does not follow is named."""
    prev = GENESIS
    for event_id, recorded_prev, recorded, event in links:
        if recorded_prev != prev:
            message = "its link does not follow the one before (an event removed or inserted)"
            yield Break(
                f"event {event_id}", message, "其链接与前一条不衔接（此前有事件被删除或插入）"
            )
        if event is None:
            yield Break(f"event {event_id}", "linked but missing", "链中有此事件，但事件本身缺失")
        elif link_hash(recorded_prev, event) != recorded:
            yield Break(f"event {event_id}", "changed after it was recorded (its hash differs)",
                        "记录后被改动（哈希不符）")  # fmt: skip
        prev = recorded


def live_breaks(session: Session, campaign_id: str) -> list[Break]:
    """Check a campaign's chain in the live ledger, every event of it linked."""
    query = (
        select(EventLinkRow, EventRow)
        .outerjoin(EventRow, EventRow.id == EventLinkRow.event_id)
        .where(EventLinkRow.chain == campaign_id)
        .order_by(EventLinkRow.seq)
    )
    rows = session.execute(query.execution_options(yield_per=1000))
    found = list(check_links((link.event_id, link.prev_sha256, link.sha256,
                              None if event is None else row_bytes(event))
                             for link, event in rows))  # fmt: skip
    unlinked = session.scalars(
        select(EventRow.id)
        .where(EventRow.campaign_id == campaign_id)
        .where(~EventRow.id.in_(select(EventLinkRow.event_id)))
    ).all()
    found += [Break(f"event {i}", "not in the chain", "不在哈希链中") for i in unlinked]
    return found
