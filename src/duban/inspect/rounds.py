"""Rounds, commitments and draws in the ledger: the reads and writes the commands share.

Functions take a session and never commit (the command's ``session_scope`` does), so a
commitment and its round, or a draw and its event, land together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.inspect.commitment import Commitment, DrawInputs
from duban.inspect.draw import Draw
from duban.inspect.inputs import stored_inputs
from duban.inspect.registers import (
    Assignment,
    compact_json,
    inspector_register,
    previous_register,
    unit_register,
)
from duban.ledger.schema import (
    InspectionAssignmentRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
    InspectionRoundRow,
)
from duban.model.due import calendar_periods
from duban.model.inspections import InspectionSpec

COMMITTED, DRAWN, APPROVED, NOTIFIED = "committed", "drawn", "approved", "notified"
STATE_ZH = {
    COMMITTED: "已承诺待抽取",
    DRAWN: "已抽取待审定",
    APPROVED: "已审定",
    NOTIFIED: "已通知",
}


def default_label(spec: InspectionSpec, day: date) -> str:
    """A routine round is named by its period (2026-Q2), an ad hoc one by its day."""
    if spec.every is None:
        return day.isoformat()
    return calendar_periods(spec.every, day, day)[0][0]


def find_round(
    session: Session, campaign_id: str, inspection_id: str, label: str
) -> InspectionRoundRow | None:
    return session.scalar(
        select(InspectionRoundRow).where(
            InspectionRoundRow.campaign_id == campaign_id,
            InspectionRoundRow.inspection_id == inspection_id,
            InspectionRoundRow.label == label,
        )
    )


def rounds_of(
    session: Session, campaign_id: str, inspection_id: str | None = None
) -> list[InspectionRoundRow]:
    query = select(InspectionRoundRow).where(InspectionRoundRow.campaign_id == campaign_id)
    if inspection_id is not None:
        query = query.where(InspectionRoundRow.inspection_id == inspection_id)
    return list(session.scalars(query.order_by(InspectionRoundRow.id)))


def latest_commitment(session: Session, round_id: int) -> InspectionCommitmentRow | None:
    return session.scalar(
        select(InspectionCommitmentRow)
        .where(InspectionCommitmentRow.round_id == round_id)
        .order_by(InspectionCommitmentRow.seq.desc())
        .limit(1)
    )


def draw_of(session: Session, commitment_id: int) -> InspectionDrawRow | None:
    return session.scalar(
        select(InspectionDrawRow).where(InspectionDrawRow.commitment_id == commitment_id)
    )


def previous_assignments(
    session: Session, campaign_id: str, inspection_id: str, before: int | None
) -> frozenset[Assignment]:
    """The assignments of the inspection's last approved round before this one (for the
    consecutive-round avoidance); none before the first."""
    query = select(InspectionRoundRow.id).where(
        InspectionRoundRow.campaign_id == campaign_id,
        InspectionRoundRow.inspection_id == inspection_id,
        InspectionRoundRow.state.in_([APPROVED, NOTIFIED]),
    )
    if before is not None:
        query = query.where(InspectionRoundRow.id < before)
    last = session.scalar(query.order_by(InspectionRoundRow.id.desc()).limit(1))
    if last is None:
        return frozenset()
    rows = session.scalars(
        select(InspectionAssignmentRow).where(InspectionAssignmentRow.round_id == last)
    )
    return frozenset((row.unit_id, str(i)) for row in rows for i in row.inspectors)


def add_commitment(
    session: Session,
    round_row: InspectionRoundRow,
    inputs: DrawInputs,
    commitment: Commitment,
    *,
    reason: str | None,
    at: datetime,
    actor: str,
) -> InspectionCommitmentRow:
    row = InspectionCommitmentRow(
        round_id=round_row.id,
        seq=inputs.attempt,
        digest=commitment.id,
        algorithm=commitment.algorithm,
        parameters=inputs.parameters.as_json(),
        unit_register=unit_register(inputs.units).decode(),
        inspector_register=inspector_register(inputs.inspectors).decode(),
        previous=sorted([list(pair) for pair in inputs.previous]),
        reason=reason,
        created_at=at,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def inputs_of(round_row: InspectionRoundRow, row: InspectionCommitmentRow) -> DrawInputs:
    return stored_inputs(
        round_row.inspection_id,
        round_row.label,
        row.seq,
        row.parameters,
        row.unit_register,
        row.inspector_register,
        row.previous,
    )


def previous_text(row: InspectionCommitmentRow) -> str:
    """The previous round's assignments as the canonical text their hash is taken of."""
    return previous_register((str(u), str(i)) for u, i in row.previous).decode()


def add_draw(
    session: Session, commitment: InspectionCommitmentRow, result: Draw, at: datetime, actor: str
) -> InspectionDrawRow:
    row = InspectionDrawRow(
        commitment_id=commitment.id,
        seed=result.seed,
        result=result.as_json(),
        result_digest=result.hash,
        drawn_at=at,
        drawn_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def record_bytes(row: InspectionDrawRow) -> bytes:
    """The draw as recorded, in the canonical form its digest is taken of."""
    return compact_json(row.result).encode()


def write_assignments(
    session: Session, round_row: InspectionRoundRow, result: Draw, strata: dict[str, str]
) -> None:
    existing = {
        row.unit_id: row
        for row in session.scalars(
            select(InspectionAssignmentRow).where(InspectionAssignmentRow.round_id == round_row.id)
        )
    }
    for position, unit_id in enumerate(result.units, start=1):
        members = list(result.team(unit_id).inspectors)
        row = existing.get(unit_id)
        if row is None:
            session.add(
                InspectionAssignmentRow(
                    round_id=round_row.id,
                    campaign_id=round_row.campaign_id,
                    unit_id=unit_id,
                    stratum=strata[unit_id],
                    position=position,
                    inspectors=members,
                )
            )
        elif list(row.inspectors) != members:
            row.inspectors = members
    session.flush()


def strata_of(result: Draw) -> dict[str, str]:
    return {unit: picks.stratum for picks in result.picks for unit in picks.units}


def assignments_of(session: Session, round_id: int) -> Sequence[InspectionAssignmentRow]:
    return session.scalars(
        select(InspectionAssignmentRow)
        .where(InspectionAssignmentRow.round_id == round_id)
        .order_by(InspectionAssignmentRow.position)
    ).all()
