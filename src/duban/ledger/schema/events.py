"""The append-only event log (留痕): who did what, when, to which thing.

The database refuses UPDATE and DELETE on it (and TRUNCATE on PostgreSQL): the triggers are
installed by migration 0001 (``migrations/versions/0001_initial_ledger.py``), not here, since
the schema is owned by the migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class EventRow(Base):
    """The append-only audit trail (留痕): who did what, when, to which thing."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_campaign_at", "campaign_id", "at"),
        # One thing's history (an item's moves) without reading the campaign's whole log.
        Index("ix_events_campaign_subject", "campaign_id", "subject"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]


class EventLinkRow(Base):
    """One link of a campaign's hash chain over the event log (issue 19): the event's place
    in its campaign's chain (``seq``, 1, 2, …), the previous link's hash and its own.

    Beside the event rather than in it, so the append-only events table is never rewritten:
    migration 0012 builds the links of an existing ledger without touching an event, and
    refuses UPDATE and DELETE on this table as 0001 does on events. ``(chain, seq)`` is unique,
    so two writers that ever computed the same next link could not both record it (a fork):
    the second would fail instead. See ``duban.ledger.chain``.
    """

    __tablename__ = "event_links"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    """The campaign's id ('' for events of no campaign)."""
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
