"""Each source's raw figure for one unit, with the evidence it rests on.

The lead (the ledger, an import) hands over plain records; each function here gives a
``Figure``: the raw number the source's rule normalises, the counts behind it (``basis``) and
an ``Evidence`` line for everything that cost or earned points — a late or missing duty with
its dates, an inspection deduction with its reason, an open rectification item, a bonus or a
penalty. ``raw`` is ``None`` when the unit has nothing to measure (no duty was due): the
source is *missing* and the campaign's missing policy decides (``scores``).

Formulas (rates as fractions, rounded half up to 0.0001; points to 0.01):

* timeliness = on time ÷ expected; completeness = received ÷ expected (DHIS2's, as
  ``status`` computes them; exempted duties are not passed in);
* inspection = the mean of the unit's rounds' scores, each the checklist's full mark minus
  its deductions;
* rectification = closed ÷ found (整改完成率; cancelled items are not passed in);
* adjustments = the sum of bonuses (+) and penalties (−); no item is 0, not missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from duban.evaluate.decimals import ZERO, cents, mean, rate

EvidenceKind = Literal[
    "late",
    "missing",
    "round",
    "deduction",
    "open-item",
    "pool",
    "ballots",
    "bonus",
    "penalty",
    "correction",
]
Facts = tuple[tuple[str, str], ...]
"""Named values of a line, in order (``("due", "2026-03-05")``): data for the sheet's
writer to word in the campaign's language, not text."""


@dataclass(frozen=True)
class Evidence:
    """One thing that moved a unit's raw figure: what it is (``kind``), what it concerns
    (``subject``: a duty, an inspection item, an item code, a ballot category), its effect in
    the source's raw units when it has one, and the reason as recorded."""

    kind: EvidenceKind
    subject: str
    points: Decimal | None = None
    reason: str = ""
    facts: Facts = ()


@dataclass(frozen=True)
class Figure:
    """A unit's raw figure for one source. ``raw`` None: missing (nothing measured, or too
    few ballots: ``insufficient``)."""

    raw: Decimal | None
    evidence: tuple[Evidence, ...] = ()
    basis: Facts = ()
    insufficient: bool = False


MISSING = Figure(None)


@dataclass(frozen=True)
class Duty:
    """One deliverable instance a unit owed, as it stood at the close: ``due`` is the last
    day on time, ``received`` the local day of the first valid version."""

    deliverable_id: str
    period: str
    due: date
    received: date | None
    state: Literal["on-time", "late", "missing"]

    @property
    def subject(self) -> str:
        return f"{self.deliverable_id} {self.period}"

    @property
    def facts(self) -> Facts:
        shown = (("due", self.due.isoformat()),)
        return shown if self.received is None else (*shown, ("received", self.received.isoformat()))


def timeliness_figure(duties: Iterable[Duty]) -> Figure:
    owed = sorted(duties, key=lambda d: (d.due, d.deliverable_id, d.period))
    on_time = sum(d.state == "on-time" for d in owed)
    evidence = tuple(
        Evidence("late" if d.state == "late" else "missing", d.subject, facts=d.facts)
        for d in owed
        if d.state != "on-time"
    )
    basis = (("expected", str(len(owed))), ("on_time", str(on_time)))
    return Figure(rate(on_time, len(owed)), evidence, basis)


def completeness_figure(duties: Iterable[Duty]) -> Figure:
    owed = sorted(duties, key=lambda d: (d.due, d.deliverable_id, d.period))
    received = sum(d.state != "missing" for d in owed)
    evidence = tuple(
        Evidence("missing", d.subject, facts=d.facts) for d in owed if d.state == "missing"
    )
    basis = (("expected", str(len(owed))), ("received", str(received)))
    return Figure(rate(received, len(owed)), evidence, basis)


@dataclass(frozen=True)
class Deduction:
    """Points an inspector deducted on one checklist item, and why (扣分理由)."""

    item_id: str
    item_title: str
    points: Decimal
    reason: str


@dataclass(frozen=True)
class InspectionRound:
    """One inspection of the unit: the checklist's full mark and the deductions made."""

    round_id: str
    full_mark: Decimal
    deductions: tuple[Deduction, ...] = ()

    @property
    def score(self) -> Decimal:
        return cents(self.full_mark - sum((d.points for d in self.deductions), ZERO))


def inspection_figure(rounds: Iterable[InspectionRound]) -> Figure:
    done = sorted(rounds, key=lambda r: r.round_id)
    evidence: list[Evidence] = []
    for r in done:
        evidence.append(Evidence("round", r.round_id, r.score, facts=(("of", str(r.full_mark)),)))
        evidence.extend(
            Evidence(
                "deduction",
                f"{r.round_id} {d.item_title}",
                -d.points,
                d.reason,
                (("round", r.round_id), ("item", d.item_id)),
            )
            for d in _by_item(r.deductions)
        )
    basis = (("rounds", str(len(done))),)
    return Figure(mean(r.score for r in done), tuple(evidence), basis)


def _by_item(deductions: Iterable[Deduction]) -> list[Deduction]:
    """Deductions in a stable order (item, then reason), whatever order the ledger gave."""
    return sorted(deductions, key=lambda d: (d.item_id, d.reason, d.points))


@dataclass(frozen=True)
class ItemRecord:
    """A rectification item as it stood at the close (cancelled ones are not passed)."""

    code: str
    finding: str
    due: date
    closed_on: date | None


def rectification_figure(items: Iterable[ItemRecord]) -> Figure:
    found = sorted(items, key=lambda i: i.code)
    closed = sum(i.closed_on is not None for i in found)
    evidence = tuple(
        Evidence("open-item", i.code, reason=i.finding, facts=(("due", i.due.isoformat()),))
        for i in found
        if i.closed_on is None
    )
    basis = (("found", str(len(found))), ("closed", str(closed)))
    return Figure(rate(closed, len(found)), evidence, basis)


@dataclass(frozen=True)
class Adjustment:
    """A bonus (+) or penalty (−) the coordinator imported (加分 / 扣分), with its reason,
    its evidence and where it came from (the import's sheet and row)."""

    points: Decimal
    reason: str
    evidence: str = ""
    ref: str = ""


def adjustments_figure(adjustments: Iterable[Adjustment]) -> Figure:
    found = sorted(adjustments, key=lambda a: (a.ref, a.reason, a.points))
    evidence = tuple(
        Evidence(
            "bonus" if a.points >= 0 else "penalty",
            a.ref,
            a.points,
            a.reason,
            (("evidence", a.evidence),) if a.evidence else (),
        )
        for a in found
    )
    return Figure(
        cents(sum((a.points for a in found), ZERO)), evidence, (("items", str(len(found))),)
    )
