"""The campaign and what it owes: campaigns, their units (the roster) and deliverable instances
(one unit's duty for one deliverable in one period, carrying its extension, exemption or
withdrawal).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class CampaignRow(Base):
    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]]
    definition_sha256: Mapped[str] = mapped_column(String(64))
    roster_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UnitRow(Base):
    __tablename__ = "units"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[Any]]
    emails: Mapped[list[Any]]
    head_email: Mapped[str | None] = mapped_column(String(254))
    supervisor_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InstanceRow(Base):
    """One unit's duty for one deliverable in one period (deliverable instance)."""

    __tablename__ = "deliverable_instances"
    __table_args__ = (
        UniqueConstraint("campaign_id", "deliverable_id", "unit_id", "period"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    deliverable_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    extended_to: Mapped[datetime | None]
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def effective_due(self) -> datetime:
        """The due time that counts: an extension's, else the calendar's."""
        return self.extended_to or self.due_at
