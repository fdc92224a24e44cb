"""Phase self-check (自查整改): each problem found, tracked item by item to closure (整改台账 /
销号). Migration 0006 creates the table (0001's placeholder had no code, no sequence and no
trail of claims and verdicts); ``duban.selfcheck.ledger`` reads and writes it.

One row per item, never deleted: a cancelled item stays, with its reason in the event log.
``code`` (``ZG-B03-007``) is unique in its campaign, and ``seq`` is the unit's own number in it;
``origin_key`` (the submission row or import line it came from) is unique too, so recording the
same source twice creates its items once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class RectificationRow(Base):
    """A finding and its measure, tracked to closure (整改台账 / 销号)."""

    __tablename__ = "rectification_items"
    # The first column names the constraint (see NAMING): one per rule.
    __table_args__ = (
        UniqueConstraint("code", "campaign_id"),
        UniqueConstraint("origin_key", "campaign_id"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
        Index("ix_rectification_items_unit", "campaign_id", "unit_id", "seq"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    code: Mapped[str] = mapped_column(String(96))
    unit_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    finding: Mapped[str] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(100))
    partners: Mapped[list[Any]] = mapped_column(default=list)
    deadline: Mapped[date | None] = mapped_column(Date)
    first_deadline: Mapped[date | None] = mapped_column(Date)
    long_term: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    progress: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_files: Mapped[list[Any]] = mapped_column(default=list)
    completed_on: Mapped[date | None] = mapped_column(Date)
    last_reason: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    origin_key: Mapped[str | None] = mapped_column(String(255))
    inspection_round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_rounds.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
