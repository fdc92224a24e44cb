"""What the event log says was decided, and the bag's ledger no longer holds.

The replay recomputes the rows the bag has; an attacker could instead remove a whole
evaluation version or inspection draw (its rows, its workbooks) and recompute every manifest.
The event log, whose chain the file checks walk, still records it: each ``evaluation.computed``
event names a version (``evaluation:<label>``, payload ``version``), each ``inspection.drawn``
event a round (``inspection:<inspection>/<round>``), and each must have its rows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import Problem
from duban.ledger.schema import (
    EvaluationRow,
    EventRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
    InspectionRoundRow,
)

EVENTS = "data/events.jsonl"


def logged_but_missing(session: Session) -> list[Problem]:
    return _evaluations(session) + _draws(session)


def _evaluations(session: Session) -> list[Problem]:
    rows = session.execute(select(EvaluationRow.label, EvaluationRow.version)).tuples()
    kept = {(f"evaluation:{label}", version) for label, version in rows}
    found = []
    query = select(EventRow.id, EventRow.subject, EventRow.payload).where(
        EventRow.kind == "evaluation.computed"
    )
    for event_id, subject, payload in session.execute(query.order_by(EventRow.id)).tuples():
        version = payload.get("version")
        if (subject, version) not in kept:
            label = str(subject).removeprefix("evaluation:")
            found.append(Problem(
                f"{EVENTS} event {event_id}",
                f"records evaluation {label} v{version} computed; "
                "data/ledger/evaluations.csv has no such version",
                f"记载考核“{label}”第 {version} 版已计算，"
                "而 data/ledger/evaluations.csv 中没有该版本",
                f"{EVENTS} 事件 {event_id}",
            ))  # fmt: skip
    return found


def _draws(session: Session) -> list[Problem]:
    drawn = (
        select(InspectionRoundRow.inspection_id, InspectionRoundRow.label)
        .join(InspectionCommitmentRow, InspectionCommitmentRow.round_id == InspectionRoundRow.id)
        .join(InspectionDrawRow, InspectionDrawRow.commitment_id == InspectionCommitmentRow.id)
    )
    kept = {f"inspection:{i}/{label}" for i, label in session.execute(drawn).tuples()}
    found = []
    query = select(EventRow.id, EventRow.subject).where(EventRow.kind == "inspection.drawn")
    for event_id, subject in session.execute(query.order_by(EventRow.id)).tuples():
        if subject not in kept:
            found.append(Problem(
                f"{EVENTS} event {event_id}",
                f"records a draw of {subject}; data/ledger/inspection_draws.csv has none",
                f"记载 {subject} 已抽取，而 data/ledger/inspection_draws.csv 中没有抽取记录",
                f"{EVENTS} 事件 {event_id}",
            ))  # fmt: skip
    return found
