"""Ranking within groups: totals, declared tie rules, a seeded draw; flags and commendations.

Within a group, units are ordered by total (higher first); between equal totals, by each
declared tie rule in turn (``higher: inspection``: the higher normalised score of that source,
as on the sheet; a unit with that source dropped goes after); and last by a draw that anyone
can redo by hand: each unit's ticket is the SHA-256 of the UTF-8 bytes of the seed followed
directly by the unit id (``printf '%s%s' "$SEED" T01 | sha256sum``), and the smaller ticket
(as hexadecimal text) goes first. The seed is recorded by the caller before the ranking.

The last ``flag_last`` places of a group are flagged for accountability (问责) unless the
group's exemption holds for the unit (every target met on a measured score): an exempt unit
is not flagged and nobody above takes its place. The first ``commend_top`` places are
commended (红榜), except a unit that is also among the last places (a group too small).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from duban.evaluate.scores import UnitScore
from duban.model.scoring import Group, Scoring, TieBreak

Key = tuple[object, ...]


@dataclass(frozen=True)
class Placing:
    """A unit's place in its group. ``decided_by``: what put it below the unit just above
    (``total``, ``higher:<source>``, ``lower:<source>`` or ``draw``; None for the first).
    ``ticket``: its draw ticket, when a draw decided its place against a neighbour."""

    unit_id: str
    group_id: str
    rank: int
    of: int
    total: Decimal
    decided_by: str | None
    ticket: str | None
    flagged: bool
    exempt: bool
    commended: bool


def ticket(seed: str, unit_id: str) -> str:
    """The unit's draw ticket: SHA-256 of seed ‖ unit id, as lower-case hexadecimal."""
    return hashlib.sha256((seed + unit_id).encode("utf-8")).hexdigest()


def rank_units(scoring: Scoring, scores: Sequence[UnitScore], seed: str) -> list[Placing]:
    """Every unit's placing, group by group (in the campaign's group order), rank order."""
    placings: list[Placing] = []
    for group in scoring.ranking_groups:
        members = [s for s in scores if s.group_id == group.id]
        placings.extend(_rank_group(group, scoring.tie_rules, members, seed))
    return placings


def _criteria(rules: Sequence[TieBreak]) -> list[str]:
    return ["total", *(f"{'higher' if r.higher else 'lower'}:{r.source_id}" for r in rules), "draw"]


def _key(score: UnitScore, rules: Sequence[TieBreak], seed: str) -> Key:
    parts: list[object] = [-score.total]
    for rule in rules:
        value = score.source(rule.source_id).normalised
        if value is None:
            parts.append((1, Decimal(0)))
        else:
            parts.append((0, -value if rule.higher else value))
    parts.append(ticket(seed, score.unit_id))
    return tuple(parts)


def _rank_group(
    group: Group, rules: Sequence[TieBreak], members: Sequence[UnitScore], seed: str
) -> list[Placing]:
    keyed = sorted(((_key(s, rules, seed), s) for s in members), key=lambda pair: pair[0])
    names = _criteria(rules)
    deciders: list[int | None] = [None] + [
        _first_difference(keyed[n - 1][0], keyed[n][0]) for n in range(1, len(keyed))
    ]
    drawn = len(names) - 1
    size = len(keyed)
    last = group.flag_last or 0
    top = group.commend_top or 0
    placings = []
    for n, (key, score) in enumerate(keyed):
        rank = n + 1
        by_draw = deciders[n] == drawn or (n + 1 < size and deciders[n + 1] == drawn)
        bottom = rank > size - last
        exempt = bottom and _exempt(group, score)
        decided = deciders[n]
        placings.append(
            Placing(
                score.unit_id,
                group.id,
                rank,
                size,
                score.total,
                None if decided is None else names[decided],
                str(key[-1]) if by_draw else None,
                bottom and not exempt,
                exempt,
                rank <= top and not bottom,
            )
        )
    return placings


def _first_difference(above: Key, below: Key) -> int:
    return next(i for i, (a, b) in enumerate(zip(above, below, strict=True)) if a != b)


def _exempt(group: Group, score: UnitScore) -> bool:
    """Whether the group's exemption holds: every target met on a measured score."""
    if group.exempt_when is None:
        return False
    for source_id, target in group.exempt_when.targets.items():
        value = score.measured(source_id)
        if value is None or value < target:
            return False
    return True
