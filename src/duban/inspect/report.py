"""What one inspection round found (督查结果), as data: the summary workbook and the bulletin
(督查通报) are two renderings of one ``InspectionReport``, so they never disagree.

A unit counts with the scoresheet version that is its latest by ``as_of`` (a corrected sheet
replaces a refused or earlier one; what was recorded later is left out, so a report compiled
for a date says what was known on it). Units are ranked by total, highest first; equal totals
share a rank (1, 1, 3) and are listed by unit id. A unit whose sheet has not come back is
listed after the ranked ones, without a rank: the team owes the sheet, not the unit, so it is
named as pending, never as last.

Typical problems (典型问题) are the checklist items on which points were deducted, the item
deducting from the most units first (then the most points lost), each with the units it
concerns and the distinct reasons the teams wrote. Findings are listed with the rectification
item each became and its deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from duban.model.campaign import Language
from duban.model.inspections import Checklist

ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class ScoreLine:
    """One checklist item's score on a unit's sheet, and why points were deducted."""

    item_id: str
    points: Decimal
    score: Decimal
    reason: str | None

    @property
    def deducted(self) -> Decimal:
        return self.points - self.score


@dataclass(frozen=True)
class FindingLine:
    """A problem the team found (发现问题) and the rectification item it became."""

    code: str
    finding: str
    measure: str | None
    due: date | None


@dataclass(frozen=True)
class UnitResult:
    """One drawn unit: its team, and its sheet's scores when one came back."""

    unit_id: str
    unit_name: str
    stratum: str
    inspectors: tuple[str, ...]
    total: Decimal | None = None
    maximum: Decimal | None = None
    on_time: bool | None = None
    received_at: datetime | None = None
    version: int | None = None
    scores: tuple[ScoreLine, ...] = ()
    findings: tuple[FindingLine, ...] = ()
    rank: int | None = None

    @property
    def returned(self) -> bool:
        return self.total is not None

    @property
    def percent(self) -> Decimal | None:
        """得分率: the total as a percentage of the checklist's full mark, to 0.1."""
        if self.total is None or not self.maximum:
            return None
        return (self.total * 100 / self.maximum).quantize(ONE_PLACE, ROUND_HALF_UP)

    def score_of(self, item_id: str) -> ScoreLine | None:
        return next((s for s in self.scores if s.item_id == item_id), None)


@dataclass(frozen=True)
class Problem:
    """A checklist item on which points were deducted: from which units, how many points in
    all, and the distinct reasons given (in the order the units are ranked)."""

    item_id: str
    title: str
    units: tuple[str, ...]
    lost: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Header:
    """Who issues the report and about what: campaign, inspection, round, its draw."""

    campaign_id: str
    campaign_title: str
    language: Language
    zone: ZoneInfo
    coordinator: str
    inspection_id: str
    inspection_title: str
    label: str
    announced: bool
    seed: str | None
    result_hash: str | None
    window: tuple[date, date] | None
    as_of: datetime


@dataclass(frozen=True)
class InspectionReport:
    header: Header
    checklist: Checklist
    units: tuple[UnitResult, ...]
    problems: tuple[Problem, ...]

    @property
    def ranked(self) -> tuple[UnitResult, ...]:
        return tuple(u for u in self.units if u.returned)

    @property
    def pending(self) -> tuple[UnitResult, ...]:
        return tuple(u for u in self.units if not u.returned)

    @property
    def late(self) -> tuple[UnitResult, ...]:
        return tuple(u for u in self.ranked if u.on_time is False)

    @property
    def findings(self) -> int:
        return sum(len(u.findings) for u in self.units)

    @property
    def average(self) -> Decimal | None:
        """The mean total of the units whose sheets came back, to 0.1."""
        totals = [u.total for u in self.ranked if u.total is not None]
        if not totals:
            return None
        return (sum(totals, Decimal(0)) / len(totals)).quantize(ONE_PLACE, ROUND_HALF_UP)

    def top(self, n: int) -> tuple[UnitResult, ...]:
        """The units ranked within the first ``n`` places (all of a tie at the edge)."""
        return tuple(u for u in self.ranked if u.rank is not None and u.rank <= n)

    def bottom(self, n: int) -> tuple[UnitResult, ...]:
        """The units ranked within the last ``n`` places, lowest first, never one of ``top``
        when there are too few units for both (fewer than ``2 n``: none)."""
        if len(self.ranked) < 2 * n:
            return ()
        cut = self.ranked[-n].total
        low = [u for u in self.ranked if u.total is not None and cut is not None and u.total <= cut]
        return tuple(reversed(low))


def build_report(
    header: Header,
    checklist: Checklist,
    drawn: Sequence[UnitResult],
) -> InspectionReport:
    """Rank the drawn units (each with its sheet's figures or without) and find the typical
    problems; ``drawn`` in any order."""
    returned = sorted((u for u in drawn if u.returned), key=_by_total)
    pending = sorted((u for u in drawn if not u.returned), key=lambda u: u.unit_id)
    ranked = tuple(_ranks(returned))
    return InspectionReport(header, checklist, (*ranked, *pending), _problems(checklist, ranked))


def _by_total(unit: UnitResult) -> tuple[Decimal, str]:
    return (-(unit.total or Decimal(0)), unit.unit_id)


def _ranks(units: Sequence[UnitResult]) -> Iterable[UnitResult]:
    rank = 0
    for index, unit in enumerate(units):
        if index == 0 or unit.total != units[index - 1].total:
            rank = index + 1
        yield _with_rank(unit, rank)


def _with_rank(unit: UnitResult, rank: int) -> UnitResult:
    return replace(unit, rank=rank)


def _problems(checklist: Checklist, units: Sequence[UnitResult]) -> tuple[Problem, ...]:
    found: list[Problem] = []
    for item in checklist.items:
        hit = [(u, s) for u in units if (s := u.score_of(item.id)) is not None and s.deducted > 0]
        if hit:
            reasons = _distinct(s.reason for _, s in hit if s.reason)
            lost = sum((s.deducted for _, s in hit), Decimal(0))
            found.append(Problem(item.id, item.title, tuple(u.unit_id for u, _ in hit), lost,
                                 reasons))  # fmt: skip
    return tuple(sorted(found, key=lambda p: (-len(p.units), -p.lost, _order(checklist, p))))


def _order(checklist: Checklist, problem: Problem) -> int:
    return [i.id for i in checklist.items].index(problem.item_id)


def _distinct(texts: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for text in texts:
        seen.setdefault(text.strip(), None)
    return tuple(seen)


def score_lines(scores: Iterable[Mapping[str, object]]) -> tuple[ScoreLine, ...]:
    """A version's ``scores`` as the ledger keeps them (item, points, score, reason)."""
    return tuple(
        ScoreLine(str(s["item"]), Decimal(str(s["points"])), Decimal(str(s["score"])),
                  _text(s.get("reason")))
        for s in scores
    )  # fmt: skip


def finding_lines(findings: Iterable[Mapping[str, object]]) -> tuple[FindingLine, ...]:
    """A version's ``findings`` as the ledger keeps them (words, measure, deadline, code)."""
    return tuple(
        FindingLine(str(f["code"]), str(f["finding"]), _text(f.get("measure")),
                    date.fromisoformat(str(f["due"])) if f.get("due") else None)
        for f in findings
    )  # fmt: skip


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)
