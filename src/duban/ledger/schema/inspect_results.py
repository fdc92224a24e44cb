"""Inspection results (督查结果, issue 16): the scoresheets inspection teams return, each
accepted copy a version of its unit's scores in its round. Migration 0008 creates the table;
``duban.inspect.results`` writes it.

A later valid sheet for the same unit replaces the earlier one as the one that counts (the
highest ``version``); the earlier rows stay, so what each inspector sent and when is kept. The
same file twice (a resend, a message read twice) is one version, by the unique key on its
digest. Findings become rectification items (``rectification_items.inspection_round_id``);
the row keeps the codes they got.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class InspectionScoreRow(Base):
    """One accepted scoresheet of one unit in one round: the items' scores (``scores``: item,
    score, reason, maximum), its total, whether it came within the visit window, and its
    findings with the items they became."""

    __tablename__ = "inspection_scores"
    __table_args__ = (
        UniqueConstraint("round_id", "unit_id", "version"),
        UniqueConstraint("sha256", "round_id", "unit_id"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    intake_file_id: Mapped[int | None] = mapped_column(ForeignKey("intake_files.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    inspector_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(254))
    received_at: Mapped[datetime]
    on_time: Mapped[bool]
    """Received by the end of the visit window the round was notified with."""
    recorded_at: Mapped[datetime]
    total: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    maximum: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    scores: Mapped[list[Any]]
    findings: Mapped[list[Any]]
