"""Phase evaluate (考核评价): scores per unit, source and period. Nothing uses this table yet;
migration 0001 creates it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class ScoreRow(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "source", "period"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
