"""Phase self-check (自查整改): findings and their measures tracked to closure. Nothing uses this
table yet; migration 0001 creates it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class RectificationRow(Base):
    """A finding and its measure, tracked to closure (整改台账 / 销号)."""

    __tablename__ = "rectification_items"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    source: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    finding: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime | None]
