"""Per unit: each source's raw figure → normalised 0–100 → weighted; the missing policy; total.

Order of work, for every group at once:

1. normalise every measured figure by its source's rule (a relative rule looks at the
   measured figures of the unit's group: ``best`` takes the group's highest raw figure);
2. fill what is missing by the source's policy: ``zero`` scores 0; ``group-average`` takes
   the mean of the group's normalised scores measured for that source (when nobody in the
   group has one, the source is dropped as under ``reweight``); ``reweight`` drops it;
3. weight: a line is ``normalised × weight ÷ W``, where W is the sum of the weights of the
   unit's sources not dropped (100 when every source counts and the weights are exact; under
   ``weights: scaled`` their sum), so the weights of the sources still counted always make up
   the whole; rounded half up to 0.01;
4. total: the sum of the rounded lines, as the unit sees them on its sheet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from duban.evaluate.decimals import HUNDRED, ZERO, cents, clamp, mean
from duban.evaluate.figures import MISSING, Figure
from duban.model.roster import Unit
from duban.model.scoring import Rule, ScoreSource, Scoring, group_of

NOTHING = cents(ZERO)
"""0.00: what a dropped source weighs and adds, printed like every other line."""
SourceState = Literal["measured", "zero", "group-average", "dropped"]


@dataclass(frozen=True)
class SourceScore:
    """One source on one unit's sheet. ``normalised`` None: dropped (reweighted out).
    ``share``: the weight as a percentage of the weights counted (for showing; the line is
    computed from the weights themselves). ``reference``: what a relative rule compared with
    (the group's best raw figure), or the group average a missing figure took."""

    source_id: str
    figure: Figure
    state: SourceState
    normalised: Decimal | None
    weight: Decimal
    share: Decimal
    weighted: Decimal
    reference: Decimal | None = None


@dataclass(frozen=True)
class UnitScore:
    unit_id: str
    group_id: str
    sources: tuple[SourceScore, ...]
    total: Decimal

    def source(self, source_id: str) -> SourceScore:
        return next(s for s in self.sources if s.source_id == source_id)

    def measured(self, source_id: str) -> Decimal | None:
        """The normalised score of a source the unit was measured on (not filled in)."""
        found = self.source(source_id)
        return found.normalised if found.state == "measured" else None


def unit_groups(scoring: Scoring, units: Iterable[Unit]) -> dict[str, str]:
    """Unit id → ranking group id, in roster order (a unit in no group is left out: the
    loader refuses a campaign with one)."""
    groups = scoring.ranking_groups
    found = ((u.id, group_of(groups, u.tags)) for u in units)
    return {unit_id: group for unit_id, group in found if group is not None}


def normalise(rule: Rule, raw: Decimal, best: Decimal | None = None) -> Decimal:
    """``raw`` on 0–100 by ``rule`` (see ``model.scoring.Rule``), clamped, to 0.01."""
    if rule.kind == "rate":
        value = raw * HUNDRED
    elif rule.kind == "points":
        value = raw / rule.full_mark * HUNDRED
    elif rule.kind == "offset":
        value = rule.start + raw
    else:
        value = raw / best * HUNDRED if best is not None and best > 0 else ZERO
    return cents(clamp(value))


def score_units(
    scoring: Scoring,
    groups: Mapping[str, str],
    figures: Mapping[str, Mapping[str, Figure]],
) -> list[UnitScore]:
    """Every unit's score (in the order of ``groups``) from its figures by source id; a
    figure not given is missing."""
    columns = {
        s.id: _column(
            scoring, s, {u: figures.get(u, {}).get(s.id, MISSING) for u in groups}, groups
        )
        for s in scoring.sources
    }
    return [_unit(u, g, [columns[s.id][u] for s in scoring.sources]) for u, g in groups.items()]


@dataclass(frozen=True)
class _Cell:
    source_id: str
    figure: Figure
    state: SourceState
    normalised: Decimal | None
    weight: Decimal
    reference: Decimal | None


def _column(
    scoring: Scoring,
    source: ScoreSource,
    figures: Mapping[str, Figure],
    groups: Mapping[str, str],
) -> dict[str, _Cell]:
    """One source for every unit: normalised within each group, missing ones filled."""
    rule = source.normalisation
    members: dict[str, list[str]] = defaultdict(list)
    for unit_id, group_id in groups.items():
        members[group_id].append(unit_id)
    cells: dict[str, _Cell] = {}
    for unit_ids in members.values():
        raws = [r for u in unit_ids if (r := figures[u].raw) is not None]
        best = max(raws) if rule.relative and raws else None
        measured = {
            u: normalise(rule, raw, best) for u in unit_ids if (raw := figures[u].raw) is not None
        }
        average = mean(measured.values())
        for u in unit_ids:
            cells[u] = _cell(scoring, source, figures[u], measured.get(u), best, average)
    return cells


def _cell(
    scoring: Scoring,
    source: ScoreSource,
    figure: Figure,
    measured: Decimal | None,
    best: Decimal | None,
    average: Decimal | None,
) -> _Cell:
    if measured is not None:
        return _Cell(source.id, figure, "measured", measured, source.weight, best)
    policy = scoring.missing_of(source)
    if policy == "zero":
        return _Cell(source.id, figure, "zero", NOTHING, source.weight, None)
    if policy == "group-average" and average is not None:
        return _Cell(source.id, figure, "group-average", average, source.weight, average)
    return _Cell(source.id, figure, "dropped", None, source.weight, None)


def _unit(unit_id: str, group_id: str, cells: list[_Cell]) -> UnitScore:
    counted = sum((c.weight for c in cells if c.normalised is not None), ZERO)
    sources = tuple(_line(c, counted) for c in cells)
    return UnitScore(unit_id, group_id, sources, sum((s.weighted for s in sources), ZERO))


def _line(cell: _Cell, counted: Decimal) -> SourceScore:
    if cell.normalised is None or counted == 0:
        share, weighted = NOTHING, NOTHING
    else:
        share = cents(cell.weight * HUNDRED / counted)
        weighted = cents(cell.normalised * cell.weight / counted)
    return SourceScore(
        cell.source_id,
        cell.figure,
        cell.state,
        cell.normalised,
        cell.weight,
        share,
        weighted,
        cell.reference,
    )
