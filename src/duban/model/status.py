"""Where every deliverable instance stands at a moment, and the on-time rates.

Rates follow DHIS2's reporting rates: *completeness* is received ÷ expected and *timeliness* is
on time ÷ expected, where expected leaves out exempted instances. Timeliness is decided by the
first valid version: a unit that sent a good plan on time and a correction later stays on time.
Everything here is pure; ``ledger.store`` gathers the facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DUE_SOON_DAYS = 3


class State(StrEnum):
    NOT_YET_DUE = "not-yet-due"
    EXTENDED = "extended"
    DUE_SOON = "due-soon"
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"
    ON_TIME = "on-time"
    LATE = "late"
    REJECTED = "rejected"
    EXEMPTED = "exempted"


PENDING = frozenset({State.NOT_YET_DUE, State.EXTENDED, State.DUE_SOON, State.DUE_TODAY})


@dataclass(frozen=True)
class InstanceFacts:
    """What the ledger knows of one deliverable instance, independent of the moment asked."""

    deliverable_id: str
    unit_id: str
    period: str
    due_at: datetime
    extended_to: datetime | None = None
    exempt: bool = False
    accepted_at: tuple[datetime, ...] = ()
    rejected_at: tuple[datetime, ...] = ()
    instance_id: int | None = None

    @property
    def effective_due(self) -> datetime:
        return self.extended_to or self.due_at


def due_day(due_at: datetime, zone: ZoneInfo) -> date:
    """The local due day: the last day that is still on time (due_at is exclusive)."""
    return (due_at - timedelta(microseconds=1)).astimezone(zone).date()


def state_at(facts: InstanceFacts, as_of: datetime, zone: ZoneInfo) -> State:
    if facts.exempt:
        return State.EXEMPTED
    accepted = sorted(t for t in facts.accepted_at if t <= as_of)
    if accepted:
        return State.ON_TIME if accepted[0] < facts.effective_due else State.LATE
    if any(t <= as_of for t in facts.rejected_at):
        return State.REJECTED
    if as_of >= facts.effective_due:
        return State.OVERDUE
    today, last_day = as_of.astimezone(zone).date(), due_day(facts.effective_due, zone)
    if today == last_day:
        return State.DUE_TODAY
    if (last_day - today).days <= DUE_SOON_DAYS:
        return State.DUE_SOON
    return State.EXTENDED if facts.extended_to is not None else State.NOT_YET_DUE


def completeness(received: int, expected: int) -> float | None:
    """DHIS2's completeness: received ÷ expected (None when nothing is expected)."""
    return None if not expected else received / expected


def timeliness(on_time: int, expected: int) -> float | None:
    """DHIS2's timeliness: received on time ÷ expected (None when nothing is expected)."""
    return None if not expected else on_time / expected


@dataclass
class Tally:
    """Counts for one group (a deliverable and period, a unit, a tag)."""

    key: tuple[str, ...]
    expected: int = 0
    received: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    rejected: int = 0
    pending: int = 0
    exempted: int = 0
    states: dict[str, int] = field(default_factory=dict)

    def add(self, state: State) -> None:
        self.states[state.value] = self.states.get(state.value, 0) + 1
        if state is State.EXEMPTED:
            self.exempted += 1
            return
        self.expected += 1
        if state in (State.ON_TIME, State.LATE):
            self.received += 1
            self.on_time += state is State.ON_TIME
            self.late += state is State.LATE
        elif state is State.REJECTED:
            self.rejected += 1
        elif state is State.OVERDUE:
            self.missing += 1
        else:
            self.pending += 1

    @property
    def completeness(self) -> float | None:
        return completeness(self.received, self.expected)

    @property
    def timeliness(self) -> float | None:
        return timeliness(self.on_time, self.expected)

    def as_dict(self, names: tuple[str, ...]) -> dict[str, object]:
        return {
            **dict(zip(names, self.key, strict=True)),
            "expected": self.expected,
            "received": self.received,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
            "rejected": self.rejected,
            "pending": self.pending,
            "exempted": self.exempted,
            "completeness": _rounded(self.completeness),
            "timeliness": _rounded(self.timeliness),
        }


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)


def tally(
    rows: Iterable[tuple[InstanceFacts, State]],
    key: Callable[[InstanceFacts], tuple[str, ...]],
) -> list[Tally]:
    groups: dict[tuple[str, ...], Tally] = {}
    for facts, state in rows:
        k = key(facts)
        if k not in groups:
            groups[k] = Tally(k)
        groups[k].add(state)
    return list(groups.values())


def by_deliverable(facts: InstanceFacts) -> tuple[str, str]:
    return (facts.deliverable_id, facts.period)


def by_unit(facts: InstanceFacts) -> tuple[str]:
    return (facts.unit_id,)
