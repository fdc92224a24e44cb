"""Outgoing messages (notices, reminders, answers, bot posts): each an intent recorded before it
is sent, keyed for exactly-once delivery, and marked after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class MessageRow(Base):
    """An outgoing message: recorded as an intent before sending, marked after."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("deliverable_instances.id"))
    kind: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    refused: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The run sending it now (status 'sending') and since when; see duban.sending.dispatch.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    """The exact bytes sent, in the raw store under this hash (kept since issue 19; a message
    sent by an earlier duban, or a bot post, has none)."""
