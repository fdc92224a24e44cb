"""The draw (双随机): which units are inspected, and by whom, from the committed inputs and a seed.

Documented in the README (*Inspections: the draw*) so that anyone can recompute it:

- Units. ``n(u)`` is SHA-256 of ``seed ␟ inspection ␟ round ␟ unit_id`` (UTF-8, ␟ the unit
  separator U+001F) read as a 256-bit integer. Strata are taken in the order of their names;
  in each, units are ordered by ``n`` ascending (unweighted), or by ``-ln(u) / w`` ascending
  with ``u = (2^256 - n) / 2^256`` in (0, 1] and ties by ``n`` (weighted: Efraimidis–Spirakis
  A-ES, the same order as ``u^(1/w)`` descending), and the first ``k`` are drawn. The order does
  not depend on ``k``, so a larger sample keeps the earlier picks; with equal weights both
  orders are the same.
- Teams. For each drawn unit, in draw order, inspectors are ordered by SHA-256 of
  ``seed ␟ inspection ␟ round ␟ unit_id ␟ inspector_id`` (ties by id); the first ``team_size``
  eligible ones form its team. Not eligible (回避), each skip logged with its reason: the
  inspector's own unit, a unit they declared a conflict with, the unit they inspected in the
  previous round, and, with ``load_cap``, an inspector already on ceil(drawn × team_size ÷
  inspectors) + 1 teams. A unit's order depends on nobody else's, so a team is a function of
  its unit alone (except through the load cap).
- Recusal after the draw (``recuse``) replaces one inspector on one unit with the next eligible
  one of that unit's order: no other assignment moves.

The keys hold the seed and the names of the inspection and round, not the commitment's id:
the commitment holds the sample size, which must not change the order (a larger sample keeps
the earlier picks). The commitment is checked beside the result (``verify``).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from duban.errors import DubanError
from duban.inspect.commitment import ALGORITHM, Commitment, DrawInputs, commit
from duban.inspect.registers import Candidate, compact_json, digest
from duban.model.campaign import Language
from duban.model.inspectors import Inspector

SEPARATOR = "\x1f"
SPAN = 2**256

Reason = Literal["own-unit", "conflict", "previous-round", "load-cap", "declared"]
REASONS: dict[Reason, dict[Language, str]] = {
    "own-unit": {"zh-CN": "本单位人员", "en": "works at the unit"},
    "conflict": {"zh-CN": "申报回避该单位", "en": "declared a conflict with the unit"},
    "previous-round": {"zh-CN": "上一轮已检查该单位", "en": "inspected the unit last round"},
    "load-cap": {"zh-CN": "检查任务已满", "en": "already on as many teams as the cap allows"},
    "declared": {"zh-CN": "申请回避：{note}", "en": "recused: {note}"},
}


def unit_number(seed: str, inspection: str, round_: str, unit_id: str) -> int:
    """The unit's key n: SHA-256 of seed ␟ inspection ␟ round ␟ unit id, as an integer."""
    return _number(seed, inspection, round_, unit_id)


def inspector_number(
    seed: str, inspection: str, round_: str, unit_id: str, inspector_id: str
) -> int:
    return _number(seed, inspection, round_, unit_id, inspector_id)


def _number(*parts: str) -> int:
    return int(hashlib.sha256(SEPARATOR.join(parts).encode()).hexdigest(), 16)


def weighted_key(number: int, weight: float) -> float:
    """Efraimidis–Spirakis: -ln(u)/w with u = (2^256 - n)/2^256, uniform in (0, 1]; the
    smallest keys are drawn, as the largest u^(1/w) would be."""
    return -math.log((SPAN - number) / SPAN) / weight


@dataclass(frozen=True)
class StratumPicks:
    stratum: str
    size: int
    k: int
    units: tuple[str, ...]
    """The drawn units, in draw order."""


@dataclass(frozen=True)
class Team:
    unit_id: str
    inspectors: tuple[str, ...]


@dataclass(frozen=True)
class Recusal:
    """An inspector skipped for a unit (回避), why, and the coordinator's note if declared."""

    unit_id: str
    inspector_id: str
    reason: Reason
    note: str = ""

    def said(self, language: Language) -> str:
        return REASONS[self.reason][language].format(note=self.note)


@dataclass(frozen=True)
class Draw:
    commitment: Commitment
    seed: str
    picks: tuple[StratumPicks, ...]
    teams: tuple[Team, ...]
    recusals: tuple[Recusal, ...]

    @property
    def units(self) -> tuple[str, ...]:
        """Every drawn unit, in draw order (strata by name, then each stratum's order)."""
        return tuple(unit for stratum in self.picks for unit in stratum.units)

    def team(self, unit_id: str) -> Team:
        return next(team for team in self.teams if team.unit_id == unit_id)

    def short_teams(self) -> tuple[Team, ...]:
        """Teams with fewer than ``team_size`` inspectors: too few were eligible."""
        size = self.commitment.parameters.team_size
        return tuple(team for team in self.teams if len(team.inspectors) < size)

    def as_json(self) -> dict[str, object]:
        return {
            "algorithm": ALGORITHM,
            "commitment": self.commitment.as_json(),
            "commitment_id": self.commitment.id,
            "seed": self.seed,
            "picks": [
                {"stratum": p.stratum, "size": p.size, "k": p.k, "units": list(p.units)}
                for p in self.picks
            ],
            "teams": [{"unit": t.unit_id, "inspectors": list(t.inspectors)} for t in self.teams],
            "recusals": [
                {"unit": r.unit_id, "inspector": r.inspector_id, "reason": r.reason, "note": r.note}
                for r in self.recusals
            ],
        }

    def canonical_json(self) -> bytes:
        """The result as published and recorded: keys sorted, no spaces, UTF-8."""
        return compact_json(self.as_json()).encode()

    @property
    def hash(self) -> str:
        return digest(self.canonical_json())


def draw(inputs: DrawInputs, seed: str) -> Draw:
    """The draw of ``inputs`` with ``seed`` (exactly as given, UTF-8)."""
    if not seed:
        raise ValueError("a draw needs a seed")
    named = [seed, inputs.inspection, inputs.round, *(c.unit_id for c in inputs.units)]
    named += [inspector.id for inspector in inputs.inspectors]
    if any(SEPARATOR in text for text in named):
        raise ValueError("the seed, names and unit ids must not hold U+001F, the separator")
    strata: dict[str, list[Candidate]] = {}
    for candidate in inputs.units:
        strata.setdefault(candidate.stratum, []).append(candidate)
    picks = tuple(_pick(inputs, seed, name, strata[name]) for name in sorted(strata))
    drawn = [unit for stratum in picks for unit in stratum.units]
    teams = _Teams(inputs, seed, _cap(inputs, len(drawn)))
    for unit in drawn:
        teams.fill(unit)
    result = Draw(commit(inputs), seed, picks, (), ())
    return replace(result, teams=tuple(teams.teams), recusals=tuple(teams.recusals))


def order_units(inputs: DrawInputs, seed: str, units: Sequence[Candidate]) -> list[str]:
    """One stratum's units in draw order (the first k are drawn, whatever k is)."""
    numbered = [(unit_number(seed, inputs.inspection, inputs.round, c.unit_id), c) for c in units]
    if inputs.parameters.weighted:
        numbered.sort(key=lambda nc: (weighted_key(nc[0], nc[1].weight), nc[0]))
    else:
        numbered.sort(key=lambda nc: nc[0])
    return [candidate.unit_id for _, candidate in numbered]


def _pick(inputs: DrawInputs, seed: str, name: str, units: list[Candidate]) -> StratumPicks:
    k = inputs.parameters.sample_size(len(units))
    return StratumPicks(name, len(units), k, tuple(order_units(inputs, seed, units)[:k]))


def _cap(inputs: DrawInputs, drawn: int) -> int | None:
    if not inputs.parameters.load_cap or not inputs.inspectors:
        return None
    return math.ceil(drawn * inputs.parameters.team_size / len(inputs.inspectors)) + 1


def order_inspectors(inputs: DrawInputs, seed: str, unit_id: str) -> list[Inspector]:
    """The order a unit's team is taken in: by SHA-256 of seed ␟ inspection ␟ round ␟ unit ␟
    inspector, ties by id; the same whatever happens on other units."""

    def key(inspector: Inspector) -> tuple[int, str]:
        number = inspector_number(seed, inputs.inspection, inputs.round, unit_id, inspector.id)
        return number, inspector.id

    return sorted(inputs.inspectors, key=key)


class _Teams:
    """Team selection over the drawn units, with the loads the cap reads and the skips."""

    def __init__(
        self, inputs: DrawInputs, seed: str, cap: int | None, teams: Iterable[Team] = ()
    ) -> None:
        self.inputs, self.seed, self.cap = inputs, seed, cap
        self.teams: list[Team] = list(teams)
        self.loads = Counter(i for team in self.teams for i in team.inspectors)
        self.recusals: list[Recusal] = []

    def fill(self, unit_id: str) -> None:
        team: list[str] = []
        passed: set[str] = set()
        order = iter(order_inspectors(self.inputs, self.seed, unit_id))  # walked once
        while len(team) < self.inputs.parameters.team_size:
            chosen = self.next_eligible(unit_id, passed, order)
            if chosen is None:
                break
            team.append(chosen)
            passed.add(chosen)
        self.teams.append(Team(unit_id, tuple(team)))

    def next_eligible(
        self, unit_id: str, passed: set[str], order: Iterator[Inspector] | None = None
    ) -> str | None:
        """The first inspector of the unit's order (or of what is left of ``order``) not in
        ``passed`` and eligible; every ineligible one met on the way is logged and added to
        ``passed``."""
        if order is None:
            order = iter(order_inspectors(self.inputs, self.seed, unit_id))
        for inspector in order:
            if inspector.id in passed:
                continue
            passed.add(inspector.id)
            reason = self._why_not(inspector, unit_id)
            if reason is None:
                self.loads[inspector.id] += 1
                return inspector.id
            self.recusals.append(Recusal(unit_id, inspector.id, reason))
        return None

    def _why_not(self, inspector: Inspector, unit_id: str) -> Reason | None:
        if inspector.unit_id == unit_id:
            return "own-unit"
        if unit_id in inspector.conflicts:
            return "conflict"
        if (unit_id, inspector.id) in self.inputs.previous:
            return "previous-round"
        if self.cap is not None and self.loads[inspector.id] >= self.cap:
            return "load-cap"
        return None


class RecusalError(DubanError):
    """A recusal names a unit that was not drawn or an inspector not on its team."""


def recuse(result: Draw, inputs: DrawInputs, unit_id: str, inspector_id: str, note: str) -> Draw:
    """``result`` with ``inspector_id`` recused from ``unit_id``'s team (the note says why) and
    replaced, in the same place, by the next eligible inspector of that unit's order; the team
    is one short if none is left. No other unit's team changes."""
    if commit(inputs) != result.commitment:
        raise ValueError("the inputs are not those the draw was committed to")
    team = next((t for t in result.teams if t.unit_id == unit_id), None)
    if team is None:
        raise RecusalError(
            f"unit {unit_id} was not drawn",
            zh=f"单位“{unit_id}”未被抽中",
            hint=f"drawn: {', '.join(result.units)}",
            zh_hint=f"抽中的单位：{'、'.join(result.units)}",
        )
    if inspector_id not in team.inspectors:
        raise RecusalError(
            f"inspector {inspector_id} is not on the team of {unit_id}",
            zh=f"检查人员“{inspector_id}”不在“{unit_id}”的检查组中",
            hint=f"its team: {', '.join(team.inspectors)}",
            zh_hint=f"该组成员：{'、'.join(team.inspectors)}",
        )
    others = [t for t in result.teams if t is not team]
    teams = _Teams(inputs, result.seed, _cap(inputs, len(result.units)), others)
    teams.loads.update(i for i in team.inspectors if i != inspector_id)
    passed = set(team.inspectors) | {
        r.inspector_id for r in result.recusals if r.unit_id == unit_id
    }
    declared = Recusal(unit_id, inspector_id, "declared", note)
    successor = teams.next_eligible(unit_id, passed)
    if successor is None:
        members = tuple(member for member in team.inspectors if member != inspector_id)
    else:
        members = tuple(successor if m == inspector_id else m for m in team.inspectors)
    replaced = tuple(Team(unit_id, members) if t is team else t for t in result.teams)
    return replace(result, teams=replaced, recusals=(*result.recusals, declared, *teams.recusals))
