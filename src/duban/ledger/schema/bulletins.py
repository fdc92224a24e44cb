"""Phase compile: the issue number (期数) of each bulletin, counted per campaign.

An office numbers its bulletins in the order it issues them (第1期, 第2期, …); the number of a
deliverable period is given the first time that period is compiled and kept by every later
compile of it, so a corrected bulletin goes out under the same number. Migration 0004 creates
the table; the two unique constraints make two compiles at once unable to share or skip a
number without one of them failing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class BulletinIssueRow(Base):
    __tablename__ = "bulletin_issues"
    # The first column names the constraint (see NAMING): one per rule.
    __table_args__ = (
        UniqueConstraint("deliverable_id", "period", "campaign_id"),
        UniqueConstraint("number", "campaign_id"),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    deliverable_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
