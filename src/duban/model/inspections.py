"""Inspections as the campaign file declares them (督查检查): checklists and inspection rounds.

The seed campaigns inspect every quarter and also at short notice (明察暗访); who is inspected
and by whom is drawn at random from registers (双随机一公开). This module holds only what the
coordinator writes: the checklist inspectors score (items with maximum points and guidance),
and each inspection's scope, sample rule, team size, notice and window. The draw itself lives
in ``duban.inspect``; cross-file checks (tags on the roster, a checklist that exists) in
``inspection_checks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, model_validator

from duban.model.forms import Identifier, Strict

if TYPE_CHECKING:  # the roster imports the campaign, which imports this module
    from duban.model.roster import Unit

Recurrence = Literal["month", "quarter", "half-year", "year"]


class ChecklistItem(Strict):
    """One line of a scoresheet (评分细则): what is checked, its maximum points and how
    deductions are made, which inspectors read on the sheet beside the score."""

    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    points: Decimal = Field(gt=0, le=1000, description="maximum points (分值)")
    guidance: str | None = Field(default=None, description="scoring guidance (评分标准)")


class Checklist(Strict):
    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    items: list[ChecklistItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_items(self) -> Self:
        ids = [i.id for i in self.items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"item ids must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def total(self) -> Decimal:
        return sum((i.points for i in self.items), Decimal(0))


class Scope(Strict):
    """Which units may be drawn: the union of the selectors given, minus ``exclude``; every
    unit on the roster when no selector is given."""

    all: bool = False
    tags: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @property
    def everyone(self) -> bool:
        return self.all or not (self.tags or self.units)


class Weights(Strict):
    """Heavier odds for units that give cause (weighted draw): a unit with an overdue
    rectification item, or with a deliverable sent late or still owed, has its weight
    multiplied by the factor; 1 leaves the draw uniform."""

    overdue_items: float = Field(default=1.0, ge=1.0, le=100.0)
    late_submissions: float = Field(default=1.0, ge=1.0, le=100.0)

    @property
    def uniform(self) -> bool:
        return self.overdue_items == 1.0 and self.late_submissions == 1.0


class SampleRule(Strict):
    """How many units each stratum gives: ``count`` units, or ``share`` of the stratum (rounded
    up), never fewer than ``minimum`` nor more than the stratum holds. ``strata`` are roster
    tags: a unit's stratum is the first of them it carries; without strata the scope is one
    stratum."""

    count: int | None = Field(default=None, ge=1, le=100_000)
    share: float | None = Field(default=None, gt=0, le=1)
    strata: list[str] = Field(default_factory=list)
    minimum: int = Field(default=1, ge=0, le=100_000)
    weights: Weights = Field(default_factory=Weights)

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.count is None) == (self.share is None):
            raise ValueError("give either 'count' (units per stratum) or 'share' (0 to 1)")
        if len(set(self.strata)) != len(self.strata):
            raise ValueError("a tag is named twice in 'strata'")
        return self


class InspectionSpec(Strict):
    """An inspection round: routine when ``every`` is given (one round a period, which the
    coordinator still starts), ad hoc otherwise (明察暗访, started when the coordinator
    decides). ``announced``: units hear of the visit window beforehand; unannounced ones hear
    nothing until results. Findings become rectification items due ``findings_due`` working
    days after the scoresheet is accepted, unless the inspector writes another deadline."""

    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    checklist: Identifier
    every: Recurrence | None = Field(default=None, description="routine; absent: ad hoc")
    scope: Scope = Field(default_factory=Scope)
    sample: SampleRule
    team_size: int = Field(default=2, ge=2, le=20, description="inspectors per unit")
    announced: bool = True
    window_working_days: int = Field(
        default=10, ge=1, le=120, description="the visit window after the draw is approved"
    )
    findings_due: int = Field(
        default=20, ge=1, le=250, description="working days a finding has for rectification"
    )


def scope_units(spec: InspectionSpec, units: Sequence[Unit]) -> list[Unit]:
    """The units an inspection may draw, in roster order."""
    scope = spec.scope
    wanted_tags, wanted_units = set(scope.tags), set(scope.units)
    excluded = set(scope.exclude)
    return [
        u
        for u in units
        if u.id not in excluded
        and (scope.everyone or u.id in wanted_units or wanted_tags.intersection(u.tags))
    ]


def stratum_of(spec: InspectionSpec, unit: Unit) -> str | None:
    """The unit's stratum: the first of the sample's strata tags it carries (``None``: none of
    them, which the loader refuses for a unit in scope); the single stratum ``""`` without
    strata."""
    if not spec.sample.strata:
        return ""
    return next((tag for tag in spec.sample.strata if tag in unit.tags), None)
