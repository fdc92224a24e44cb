"""A public evaluation's ballots as the ledger keeps them: when the round closes (told to every
evaluator when the ballots went out) and every ballot returned, as the counting reads it.

The close is not in the campaign file (``BallotSpec`` says how ballots count, not when they
are due): the coordinator names it when sending (``duban evaluate ballots --closes``), and
it is kept in the round's ``evaluation.ballots-sent`` event, written once before the first
ballot goes out, so intake can tell an evaluator their ballot came late, and the evaluation
can read the same moment. Every returned ballot is kept; which one counts (the latest before
the close) is ``evaluate.ballots.counted_ballots``'s to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.evaluate.ballots import Ballot
from duban.ledger.schema import BallotRow, EventRow

SENT_EVENT = "evaluation.ballots-sent"


def round_subject(source_id: str, label: str) -> str:
    """The events' subject for one round of a public evaluation's ballots."""
    return f"evaluation:{source_id}/{label}"


@dataclass(frozen=True)
class BallotRound:
    """A round whose ballots went out: when it closes, and to how many evaluators."""

    source_id: str
    label: str
    closes: datetime
    evaluators: int


def ballot_round(
    session: Session, campaign_id: str, source_id: str, label: str
) -> BallotRound | None:
    """The round as its send event recorded it; ``None`` before any ballot of it went out."""
    payload = session.scalar(
        select(EventRow.payload)
        .where(
            EventRow.campaign_id == campaign_id,
            EventRow.kind == SENT_EVENT,
            EventRow.subject == round_subject(source_id, label),
        )
        .order_by(EventRow.id)
        .limit(1)
    )
    if payload is None:
        return None
    closes = datetime.fromisoformat(str(payload["closes"]))
    return BallotRound(source_id, label, closes, int(payload.get("evaluators", 0)))


def ballot_id(row: BallotRow) -> str:
    """The ballot's id for the counting: its row number, zero-padded so that two ballots
    received at the same instant are ordered as they were recorded."""
    return f"{row.id:010d}"


def ballots_of(session: Session, campaign_id: str, source_id: str, label: str) -> list[Ballot]:
    """Every ballot returned for the round, in the order recorded, for
    ``counted_ballots`` (late and superseded ones included: the counting sets them aside)."""
    rows = session.scalars(
        select(BallotRow)
        .where(
            BallotRow.campaign_id == campaign_id,
            BallotRow.source_id == source_id,
            BallotRow.label == label,
        )
        .order_by(BallotRow.id)
    )
    return [
        Ballot(
            ballot_id=ballot_id(row),
            evaluator=row.evaluator_id,
            category=row.category,
            received_at=row.received_at,
            marks={str(u): str(m) for u, m in row.marks.items()},
            comments={str(u): str(c) for u, c in row.comments.items()},
        )
        for row in rows
    ]
