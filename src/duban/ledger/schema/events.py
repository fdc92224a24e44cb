"""The append-only event log (留痕): who did what, when, to which thing.

The database refuses UPDATE and DELETE on it (and TRUNCATE on PostgreSQL): the triggers are
installed by migration 0001 (``migrations/versions/0001_initial_ledger.py``), not here, since
the schema is owned by the migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
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
