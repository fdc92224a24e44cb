"""The issue number (期数) of a bulletin: counted per campaign in the ledger.

An office files its bulletins as 第1期, 第2期, …; the number belongs to a deliverable period,
given when that period is first compiled and kept by every compile after it, so a bulletin
compiled again (a late unit, a correction) goes out under the number it had.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.ledger.schema import BulletinIssueRow


def issue_number(
    session: Session, campaign_id: str, deliverable_id: str, period: str, clock: Clock
) -> int:
    """The period's number, or the campaign's next one, recorded now. Two compiles of new
    periods at the same moment would take the same number; the table's unique constraint
    fails the second, which a re-run then numbers correctly."""
    kept = session.scalar(
        select(BulletinIssueRow.number).where(
            BulletinIssueRow.campaign_id == campaign_id,
            BulletinIssueRow.deliverable_id == deliverable_id,
            BulletinIssueRow.period == period,
        )
    )
    if kept is not None:
        return kept
    last = session.scalar(
        select(func.max(BulletinIssueRow.number)).where(BulletinIssueRow.campaign_id == campaign_id)
    )
    number = (last or 0) + 1
    session.add(
        BulletinIssueRow(
            campaign_id=campaign_id,
            deliverable_id=deliverable_id,
            period=period,
            number=number,
            issued_at=clock.now(),
        )
    )
    session.flush()
    return number
