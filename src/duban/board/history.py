"""One unit's whole year on one page: its duties and their states, the messages sent to it,
its replies (with each file's outcome), the decisions about it, its rectification items,
inspection scores and evaluation results.

Read-only queries over the ledger, each bounded by the unit (a few hundred rows at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from duban.implement.review import describe
from duban.ledger.schema import (
    EvaluationRow,
    EvaluationScoreRow,
    EventRow,
    InspectionRoundRow,
    InspectionScoreRow,
    InstanceRow,
    IntakeFileRow,
    IntakeRow,
    MessageRow,
    RectificationRow,
    UnitRow,
)
from duban.model.matrix import Cell, Matrix


@dataclass(frozen=True)
class Duty:
    deliverable: str
    period: str
    due: str
    cell: Cell | None
    extended_to: datetime | None
    exempt: bool
    note: str | None


@dataclass(frozen=True)
class Reply:
    item: str
    received_at: datetime
    sender: str | None
    subject: str | None
    status: str
    reason: str | None
    files: list[tuple[str, str | None, str, str | None]]  # id, name, outcome, reason


@dataclass(frozen=True)
class UnitHistory:
    unit: UnitRow
    duties: list[Duty]
    messages: list[MessageRow]
    replies: list[Reply]
    events: list[EventRow]
    items: list[RectificationRow]
    inspections: list[tuple[str, InspectionScoreRow]]
    evaluations: list[tuple[str, EvaluationScoreRow]]


def unit_history(
    session: Session, campaign_id: str, unit_id: str, matrix: Matrix, language: str = "zh-CN"
) -> UnitHistory | None:
    """Everything about one unit; reasons said in ``language`` (the campaign's)."""
    unit = session.get(UnitRow, (campaign_id, unit_id))
    if unit is None:
        return None
    instances = list(session.scalars(
        select(InstanceRow).where(InstanceRow.campaign_id == campaign_id,
                                  InstanceRow.unit_id == unit_id, InstanceRow.withdrawn.is_(False))
    ))  # fmt: skip
    replies = _replies(session, campaign_id, unit_id, language)
    items = _items(session, campaign_id, unit_id)
    return UnitHistory(
        unit=unit,
        duties=_duties(instances, unit_id, matrix),
        messages=_messages(session, campaign_id, [i.id for i in instances], unit, replies),
        replies=replies,
        events=_events(
            session,
            campaign_id,
            unit_id,
            [f"intake/{r.item[1:]}" for r in replies] + [i.code for i in items],
        ),
        items=items,
        inspections=_inspections(session, campaign_id, unit_id),
        evaluations=_evaluations(session, campaign_id, unit_id),
    )


def _items(session: Session, campaign_id: str, unit_id: str) -> list[RectificationRow]:
    query = select(RectificationRow).where(
        RectificationRow.campaign_id == campaign_id, RectificationRow.unit_id == unit_id
    )
    return list(session.scalars(query.order_by(RectificationRow.seq)))


def _duties(instances: list[InstanceRow], unit_id: str, matrix: Matrix) -> list[Duty]:
    line = next((line for line in matrix.lines if line.unit_id == unit_id), None)
    cells: dict[tuple[str, str], Cell | None] = {}
    if line is not None:
        for column, cell in zip(matrix.columns, line.cells, strict=True):
            cells[(column.deliverable, column.period)] = cell
    due = {(c.deliverable, c.period): c.due.isoformat() for c in matrix.columns}
    ordered = sorted(instances, key=lambda i: (i.due_at, i.deliverable_id))
    return [
        Duty(i.deliverable_id, i.period, due.get((i.deliverable_id, i.period), ""),
             cells.get((i.deliverable_id, i.period)), i.extended_to, i.exempt, i.note)
        for i in ordered
    ]  # fmt: skip


def _messages(
    session: Session,
    campaign_id: str,
    instance_ids: list[int],
    unit: UnitRow,
    replies: list[Reply],
) -> list[MessageRow]:
    """Messages about the unit's duties, the answers to its replies, and those keyed by the
    unit (reminders of several duties, inspection notices, evaluation results)."""
    keyed = or_(
        MessageRow.instance_id.in_(instance_ids),
        MessageRow.idempotency_key.in_([f"answer:{r.item[1:]}" for r in replies]),
        MessageRow.idempotency_key.contains(f":{unit.id}:"),
        MessageRow.idempotency_key.endswith(f":{unit.id}"),
    )
    rows = session.scalars(
        select(MessageRow).where(MessageRow.campaign_id == campaign_id, keyed)
        .order_by(MessageRow.created_at, MessageRow.id)
    )  # fmt: skip
    return list(rows)


def _replies(session: Session, campaign_id: str, unit_id: str, language: str) -> list[Reply]:
    """The messages from the unit's addresses, and those from elsewhere carrying its template
    (a liaison's personal mailbox: the message names no unit, its file does, and is held)."""
    its_files = select(IntakeFileRow.intake_id).where(IntakeFileRow.unit_id == unit_id)
    records = list(session.scalars(
        select(IntakeRow).where(IntakeRow.campaign_id == campaign_id,
                                or_(IntakeRow.unit_id == unit_id, IntakeRow.id.in_(its_files)))
        .order_by(IntakeRow.received_at, IntakeRow.id)
    ))  # fmt: skip
    by_id = {r.id: r for r in records}
    files: dict[int, list[tuple[str, str | None, str, str | None]]] = {}
    for file in session.scalars(
        select(IntakeFileRow).where(IntakeFileRow.intake_id.in_([r.id for r in records]))
        .order_by(IntakeFileRow.id)
    ):  # fmt: skip
        record = by_id[file.intake_id]
        detail = file.problems[0] if file.problems else record.detail
        said = _said(file.reason, detail, record.sender, language)
        files.setdefault(file.intake_id, []).append((f"F{file.id}", file.filename, file.outcome,
                                                     said))  # fmt: skip
    return [
        Reply(f"M{r.id}", r.received_at, r.sender, r.subject, r.status,
              _said(r.reason, r.detail, r.sender, language), files.get(r.id, []))
        for r in records
    ]  # fmt: skip


def _said(code: str | None, detail: Any, sender: str | None, language: str) -> str | None:
    """A reason code as ``duban review`` says it, in the campaign's language."""
    if not code or code == "accepted":  # "accepted (已受理)" says nothing more
        return None
    return describe(code, detail if isinstance(detail, dict) else None, sender,
                    "zh-CN" if language.startswith("zh") else "en")  # fmt: skip


def _events(
    session: Session, campaign_id: str, unit_id: str, subjects: list[str]
) -> list[EventRow]:
    """Events about the unit's duties, its replies and its rectification items, and those
    it made itself (claims, appeals)."""
    about = or_(
        EventRow.subject.endswith(f"/{unit_id}"),
        EventRow.subject.in_(subjects),
        EventRow.actor == unit_id,
    )
    return list(session.scalars(
        select(EventRow).where(EventRow.campaign_id == campaign_id, about)
        .order_by(EventRow.id)
    ))  # fmt: skip


def _inspections(
    session: Session, campaign_id: str, unit_id: str
) -> list[tuple[str, InspectionScoreRow]]:
    rows = session.execute(
        select(InspectionRoundRow.label, InspectionScoreRow)
        .join(InspectionRoundRow, InspectionRoundRow.id == InspectionScoreRow.round_id)
        .where(InspectionScoreRow.campaign_id == campaign_id,
               InspectionScoreRow.unit_id == unit_id)
        .order_by(InspectionScoreRow.id)
    ).tuples()  # fmt: skip
    return [(str(label), row) for label, row in rows]


def _evaluations(
    session: Session, campaign_id: str, unit_id: str
) -> list[tuple[str, EvaluationScoreRow]]:
    rows = session.execute(
        select(EvaluationRow.label, EvaluationRow.version, EvaluationScoreRow)
        .join(EvaluationRow, EvaluationRow.id == EvaluationScoreRow.evaluation_id)
        .where(EvaluationScoreRow.campaign_id == campaign_id,
               EvaluationScoreRow.unit_id == unit_id)
        .order_by(EvaluationScoreRow.id)
    ).tuples()  # fmt: skip
    return [(f"{label} v{version}", row) for label, version, row in rows]


def as_text(value: Any) -> str:
    """A value as the page shows it: nothing for None."""
    return "" if value is None else str(value)
