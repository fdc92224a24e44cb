"""Inspections (督查检查, issue 16): rounds, the commitments and draws that pick who is
inspected and by whom (双随机), and the assignments the teams receive. Migration 0007 creates
the tables; ``duban.inspect`` decides what goes in them.

A round is one inspection as the coordinator starts it (``quarterly`` in ``2026-Q2``, or an ad
hoc one on a day). Before anything is drawn a *commitment* is recorded: the registers as they
were (canonical text, so the draw can be recomputed from the ledger alone), the previous round's
assignments, the parameters and the algorithm, with the SHA-256 of all of it. A *draw* is one
seed applied to one commitment; the commitment's key is unique among draws, so a second seed
for the same commitment is refused by the database, and drawing again needs a new commitment
with its reason. Nothing is deleted: a superseded commitment and its draw stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class InspectionRoundRow(Base):
    """One inspection round: ``state`` moves committed → drawn → approved → notified."""

    __tablename__ = "inspection_rounds"
    __table_args__ = (UniqueConstraint("campaign_id", "inspection_id", "label"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    inspection_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    announced: Mapped[bool]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))


class InspectionCommitmentRow(Base):
    """What a draw is bound to before its seed is known; ``digest`` is its SHA-256."""

    __tablename__ = "inspection_commitments"
    __table_args__ = (UniqueConstraint("round_id", "seq"), UniqueConstraint("digest"))
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"))
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]]
    unit_register: Mapped[str] = mapped_column(Text)
    inspector_register: Mapped[str] = mapped_column(Text)
    previous: Mapped[list[Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class InspectionDrawRow(Base):
    """One seed applied to one commitment: at most one per commitment, by the unique key."""

    __tablename__ = "inspection_draws"
    __table_args__ = (UniqueConstraint("commitment_id"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("inspection_commitments.id"))
    seed: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any]]
    result_digest: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime]
    drawn_by: Mapped[str] = mapped_column(String(64))


class InspectionAssignmentRow(Base):
    """A drawn unit and its team as they stand (a recusal after the draw replaces one
    inspector here, with an event saying why); what notices and scoresheets are made from."""

    __tablename__ = "inspection_assignments"
    __table_args__ = (
        UniqueConstraint("round_id", "unit_id"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    inspectors: Mapped[list[Any]]
