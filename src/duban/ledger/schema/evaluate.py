"""Phase evaluate (评议考核, issue 17): the inputs an evaluation reads that no other phase
keeps, and the evaluations computed from them. Migration 0009 creates these tables (and drops
``scores``, which no version of duban ever wrote: its three-place values could not hold a rate
to 0.0001, and a score means nothing without the evaluation it belongs to).

* ``evaluation_ballots``: each ballot workbook an evaluator returned (民主评议), as received:
  the marks as written and the comments, per unit. Every copy is kept; which one counts (the
  latest before the close) is decided when counting, so the rule can be audited. Who rated
  what stays here and in the raw store: outputs show counts and trimmed values only.
* ``evaluation_adjustments``: the bonuses and penalties (加分 / 扣分) the coordinator imported,
  each with its reason, evidence and the sheet row it came from (``ref``, unique: importing
  the same file again records nothing twice).
* ``evaluations``: each computation of one evaluation (``label``, e.g. ``2026``), numbered:
  the figures it read (canonical JSON, ``inputs``, with its hash), the seed of its draws, the
  result's hash; ``preliminary`` until frozen. A frozen evaluation is never computed again: a
  recomputation from the ledger must give its hashes and its bytes.
* ``evaluation_scores``: a computation's result per unit: total, group, rank, flags, and the
  lines of its score sheet (得分说明).
* ``evaluation_appeals``: a unit's appeal (复核申请) against one line of its preliminary score
  sheet, and the coordinator's decision; an upheld appeal carries the correction it makes
  (a source's raw figure for the unit, with the reason), which every later computation applies.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class BallotRow(Base):
    __tablename__ = "evaluation_ballots"
    __table_args__ = (
        UniqueConstraint("campaign_id", "source_id", "label", "evaluator_id", "sha256"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    source_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(32))
    evaluator_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    intake_file_id: Mapped[int | None] = mapped_column(ForeignKey("intake_files.id"))
    sender: Mapped[str] = mapped_column(String(254))
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    marks: Mapped[dict[str, Any]]
    """Each rated unit's mark as written (a scale word or a number; blank units left out)."""
    comments: Mapped[dict[str, Any]]


class AdjustmentRow(Base):
    __tablename__ = "evaluation_adjustments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "ref"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(String(200))
    """Where it came from: the imported file's digest (first 16), its sheet and row."""
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))


class EvaluationRow(Base):
    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("campaign_id", "label", "version"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    label: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    closes_at: Mapped[datetime]
    """The close: what was recorded after it is not read."""
    seed: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]]
    inputs_digest: Mapped[str] = mapped_column(String(64))
    result_digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    computed_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
    frozen_at: Mapped[datetime | None]
    frozen_by: Mapped[str | None] = mapped_column(String(64))


class EvaluationScoreRow(Base):
    __tablename__ = "evaluation_scores"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "unit_id"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    rank: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool]
    commended: Mapped[bool]
    lines: Mapped[list[Any]]


class AppealRow(Base):
    __tablename__ = "evaluation_appeals"
    __table_args__ = (
        UniqueConstraint("campaign_id", "label", "unit_id", "line"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    label: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(64))
    line: Mapped[str] = mapped_column(String(200))
    """The disputed line as its score sheet names it (source, and the subject when a line
    of evidence: ``timeliness``, ``inspection: quarterly/2026-Q2 工作作风和纪律``)."""
    statement: Mapped[str] = mapped_column(Text)
    intake_file_id: Mapped[int | None] = mapped_column(ForeignKey("intake_files.id"))
    received_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(Text)
    correction: Mapped[dict[str, Any] | None]
