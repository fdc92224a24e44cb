"""The score sheet (得分说明) as data: every line a unit needs to check its score by hand.

For each source, in the campaign's order: the evidence lines (a late duty with its due and
received days, an inspection deduction with its reason, the ballots' pools and counts, each
bonus and penalty with its reason), the raw figure with the counts behind it, then how it
became 0–100 (``normalised`` with its rule; or ``filled`` by the missing policy, or
``dropped``), then the weighted line. Then the lines of the whole: the total (the sum of the
weighted lines), the rank in the group and what decided it, the flag, exemption or
commendation, and ``to-pass``: the points the total needs to pass the next unit up (its
total minus this one's, plus 0.01: totals are kept to 0.01, so an equal total is not
enough). Words are the writer's job: lines carry kinds, values and named facts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from duban.evaluate.decimals import CENT
from duban.evaluate.figures import Facts
from duban.evaluate.ranking import Placing
from duban.evaluate.scores import SourceScore, UnitScore
from duban.model.scoring import Rule, Scoring

WHOLE = ""
"""The ``source_id`` of the lines about the whole score (total, rank, flags, to-pass)."""
PLACE_LINES = frozenset({"rank", "flagged", "exempt", "commended", "to-pass"})
"""The lines that follow from the other units' totals, not from the unit's own inputs."""


@dataclass(frozen=True)
class SheetLine:
    source_id: str
    what: str
    subject: str = ""
    value: Decimal | None = None
    reason: str = ""
    facts: Facts = ()


@dataclass(frozen=True)
class ScoreSheet:
    unit_id: str
    group_id: str
    total: Decimal
    rank: int
    of: int
    lines: tuple[SheetLine, ...]


def score_sheets(
    scoring: Scoring, scores: Sequence[UnitScore], placings: Sequence[Placing]
) -> list[ScoreSheet]:
    """Every ranked unit's sheet, in ranking order (group by group)."""
    by_unit = {s.unit_id: s for s in scores}
    rules = {s.id: (s.normalisation, scoring.missing_of(s)) for s in scoring.sources}
    above: dict[str, Placing] = {}
    for previous, placing in itertools.pairwise(placings):
        if placing.group_id == previous.group_id:
            above[placing.unit_id] = previous
    return [
        ScoreSheet(
            p.unit_id,
            p.group_id,
            p.total,
            p.rank,
            p.of,
            (
                *_source_lines(rules, by_unit[p.unit_id]),
                *_whole_lines(scoring, p, above.get(p.unit_id)),
            ),
        )
        for p in placings
    ]


def _source_lines(rules: Mapping[str, tuple[Rule, str]], score: UnitScore) -> Iterator[SheetLine]:
    for line in score.sources:
        source_id, figure = line.source_id, line.figure
        for e in figure.evidence:
            yield SheetLine(source_id, e.kind, e.subject, e.points, e.reason, e.facts)
        insufficient = (("insufficient", "true"),) if figure.insufficient else ()
        yield SheetLine(source_id, "figure", value=figure.raw, facts=(*figure.basis, *insufficient))
        rule, policy = rules[source_id]
        yield _normalised(source_id, rule, line, policy)
        yield SheetLine(
            source_id,
            "weighted",
            value=line.weighted,
            facts=(("weight", str(line.weight)), ("share", str(line.share))),
        )


def _normalised(source_id: str, rule: Rule, line: SourceScore, policy: str) -> SheetLine:
    if line.state == "measured":
        return SheetLine(
            source_id, "normalised", value=line.normalised, facts=_rule_facts(rule, line)
        )
    if line.state == "dropped":
        return SheetLine(source_id, "dropped", facts=(("policy", policy),))
    reference = () if line.reference is None else (("group_average", str(line.reference)),)
    return SheetLine(
        source_id, "filled", value=line.normalised, facts=(("policy", line.state), *reference)
    )


def _rule_facts(rule: Rule, line: SourceScore) -> Facts:
    if rule.kind == "points":
        return (("rule", "points"), ("max", str(rule.full_mark)))
    if rule.kind == "offset":
        return (("rule", "offset"), ("base", str(rule.start)))
    if rule.kind == "best":
        return (("rule", "best"), ("best", str(line.reference)))
    return (("rule", rule.kind),)


def _whole_lines(scoring: Scoring, p: Placing, above: Placing | None) -> Iterator[SheetLine]:
    yield SheetLine(WHOLE, "total", value=p.total)
    decided = () if p.decided_by is None else (("decided_by", p.decided_by),)
    drawn = () if p.ticket is None else (("ticket", p.ticket),)
    yield SheetLine(
        WHOLE, "rank", p.group_id, Decimal(p.rank), facts=(("of", str(p.of)), *decided, *drawn)
    )
    if p.flagged:
        yield SheetLine(WHOLE, "flagged", p.group_id)
    if p.exempt:
        group = next(g for g in scoring.ranking_groups if g.id == p.group_id)
        targets = group.exempt_when.targets if group.exempt_when is not None else {}
        yield SheetLine(
            WHOLE, "exempt", p.group_id, facts=tuple((k, str(v)) for k, v in targets.items())
        )
    if p.commended:
        yield SheetLine(WHOLE, "commended", p.group_id)
    if above is not None:
        gap = above.total - p.total
        yield SheetLine(
            WHOLE,
            "to-pass",
            value=gap + CENT,
            facts=(("above_rank", str(above.rank)), ("above_total", str(above.total))),
        )
