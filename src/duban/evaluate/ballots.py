"""Public evaluation (民主评议 / 满意度测评): ballots counted, marks pooled, units summarised.

* One valid ballot per evaluator: the latest received before the close counts (a later one
  replaces an earlier one whole; ballots received at the same instant are ordered by their
  ballot id); ballots after the close are set aside as late.
* A mark is mapped by the declared scale (满意 → 100 …, or a number 0–100 as written); a
  mark the scale does not know is spoiled and counted apart; a blank mark is no mark.
* Each evaluator category is one pool: its ``trim`` highest and lowest marks are dropped
  (去掉最高分最低分) when the pool holds more than ``2 × trim`` marks, otherwise none is;
  the rest are averaged and rounded half up to 0.01.
* A unit's trimmed mean is the category-weighted mean of its pools (a category with no mark
  for it is left out, the others' weights count for it), rounded to 0.01; without declared
  categories there is one pool. Its satisfaction rate is satisfied marks ÷ valid marks
  (unweighted, untrimmed), to 0.0001.
* A unit with fewer than ``minimum`` valid marks is insufficient: it gets no figure here.

Evaluators stay anonymous past this module: a ``UnitTally`` holds counts, dropped values,
means and comments (sorted, never attributed), not who rated what.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from duban.evaluate.decimals import ZERO, cents, mean, rate
from duban.evaluate.figures import Evidence, Figure
from duban.model.scoring import BallotSpec


@dataclass(frozen=True)
class Ballot:
    """One evaluator's returned ballot: a mark (as written) per unit, and comments."""

    ballot_id: str
    evaluator: str
    category: str
    received_at: datetime
    marks: Mapping[str, str]
    comments: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SetAside:
    """A ballot that does not count, and why: received after the close, or replaced by the
    same evaluator's later ballot."""

    ballot_id: str
    evaluator: str
    reason: Literal["late", "superseded"]


def counted_ballots(
    ballots: Iterable[Ballot], close: datetime
) -> tuple[list[Ballot], list[SetAside]]:
    """The ballots that count (one per evaluator, by evaluator) and those set aside."""
    latest: dict[str, Ballot] = {}
    aside: list[SetAside] = []
    for b in sorted(ballots, key=lambda b: (b.evaluator, b.received_at, b.ballot_id)):
        if b.received_at >= close:
            aside.append(SetAside(b.ballot_id, b.evaluator, "late"))
            continue
        replaced = latest.get(b.evaluator)
        if replaced is not None:
            aside.append(SetAside(replaced.ballot_id, replaced.evaluator, "superseded"))
        latest[b.evaluator] = b
    return [latest[e] for e in sorted(latest)], aside


@dataclass(frozen=True)
class Pool:
    """One category's marks for one unit: how many, what was dropped, the trimmed mean."""

    category: str
    weight: Decimal | None
    count: int
    dropped_high: tuple[Decimal, ...]
    dropped_low: tuple[Decimal, ...]
    mean: Decimal


@dataclass(frozen=True)
class UnitTally:
    unit_id: str
    valid: int
    spoiled: int
    satisfied: int
    pools: tuple[Pool, ...]
    trimmed_mean: Decimal | None
    satisfaction: Decimal | None
    insufficient: bool
    comments: tuple[str, ...] = ()


def points_of(mark: str, spec: BallotSpec) -> Decimal | None:
    """The points a mark is worth; ``None``: spoiled (not on the scale, or not 0–100)."""
    text = mark.strip()
    if spec.scale != "0-100":
        return spec.scale.get(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and ZERO <= value <= 100 else None


def tally_units(ballots: Iterable[Ballot], spec: BallotSpec) -> dict[str, UnitTally]:
    """Every rated unit's tally from the counted ballots (``counted_ballots`` first)."""
    marks: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    spoiled: dict[str, int] = defaultdict(int)
    comments: dict[str, list[str]] = defaultdict(list)
    known: dict[str, Decimal | None] = {}  # a few marks repeat a million times
    for b in ballots:
        category = _category(b, spec)
        for unit_id, mark in b.marks.items():
            if not mark.strip():
                continue
            if mark not in known:
                known[mark] = points_of(mark, spec)
            points = known[mark]
            if points is None:
                spoiled[unit_id] += 1
            else:
                marks[unit_id][category].append(points)
        for unit_id, text in b.comments.items():
            if text.strip():
                comments[unit_id].append(text.strip())
    rated = sorted(set(marks) | set(spoiled))
    return {u: _tally(u, marks.get(u, {}), spoiled[u], sorted(comments[u]), spec) for u in rated}


def _category(ballot: Ballot, spec: BallotSpec) -> str:
    if not spec.categories:
        return ""
    if ballot.category not in spec.categories:
        known = ", ".join(spec.categories)
        raise ValueError(f"ballot {ballot.ballot_id}: category {ballot.category!r} not in {known}")
    return ballot.category


def _tally(
    unit_id: str,
    by_category: Mapping[str, list[Decimal]],
    spoiled: int,
    comments: list[str],
    spec: BallotSpec,
) -> UnitTally:
    order = list(spec.categories) or [""]
    pools = tuple(
        _pool(c, spec.categories.get(c), by_category[c], spec.trim)
        for c in order
        if by_category.get(c)
    )
    every = [p for values in by_category.values() for p in values]
    satisfied = sum(p >= spec.satisfied_at for p in every)
    insufficient = len(every) < spec.minimum
    return UnitTally(
        unit_id,
        len(every),
        spoiled,
        satisfied,
        pools,
        None if insufficient else _weighted(pools),
        None if insufficient else rate(satisfied, len(every)),
        insufficient,
        tuple(comments),
    )


def _pool(category: str, weight: Decimal | None, values: list[Decimal], trim: int) -> Pool:
    ordered = sorted(values)
    cut = trim if len(ordered) > 2 * trim else 0
    kept = ordered[cut : len(ordered) - cut]
    found = mean(kept)
    assert found is not None  # a pool is made only of a category with marks
    return Pool(
        category,
        weight,
        len(ordered),
        tuple(reversed(ordered[len(ordered) - cut :])),
        tuple(ordered[:cut]),
        found,
    )


def _weighted(pools: tuple[Pool, ...]) -> Decimal | None:
    if not pools:
        return None
    if pools[0].weight is None:
        return pools[0].mean
    total = sum((p.weight or ZERO for p in pools), ZERO)
    return cents(sum((p.mean * (p.weight or ZERO) for p in pools), ZERO) / total)


def public_figure(tally: UnitTally | None, spec: BallotSpec) -> Figure:
    """The unit's public-evaluation figure: the trimmed mean (or the satisfaction rate, as
    declared), with a line per pool and one for the ballots; missing when nobody rated the
    unit or too few did."""
    if tally is None:
        return Figure(None, basis=(("valid", "0"),), insufficient=True)
    pools = tuple(
        Evidence(
            "pool",
            p.category,
            p.mean,
            facts=(
                ("count", str(p.count)),
                ("dropped_high", " ".join(str(v) for v in p.dropped_high)),
                ("dropped_low", " ".join(str(v) for v in p.dropped_low)),
                *((("weight", str(p.weight)),) if p.weight is not None else ()),
            ),
        )
        for p in tally.pools
    )
    summary = Evidence(
        "ballots",
        "",
        tally.trimmed_mean,
        facts=(
            ("valid", str(tally.valid)),
            ("spoiled", str(tally.spoiled)),
            ("satisfied", str(tally.satisfied)),
            ("satisfaction", "" if tally.satisfaction is None else str(tally.satisfaction)),
            ("minimum", str(spec.minimum)),
        ),
    )
    raw = tally.satisfaction if spec.figure == "satisfaction-rate" else tally.trimmed_mean
    basis = (("valid", str(tally.valid)), ("spoiled", str(tally.spoiled)))
    return Figure(raw, (*pools, summary), basis, tally.insufficient)
