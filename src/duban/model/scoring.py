"""Scoring as the campaign file declares it (评议考核): sources, normalisation, groups, ties.

A year's work becomes one score per unit: each *source* (timeliness, inspection, public
evaluation …) gives a raw figure, a declared *rule* maps it to 0–100, a *weight* scales it, and
the weighted lines add up to the total. Units are ranked within *groups* (镇区, 市级机关 …),
ties broken by declared rules and then by a seeded draw; the last of each group is flagged for
accountability (问责) unless exempted, the first commended (红榜). This module holds only what
the coordinator writes; ``duban.evaluate`` computes, ``scoring_checks`` checks references.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from duban.model.forms import Identifier, Strict, WordedValueError, kind_from_id

SourceKind = Literal[
    "timeliness", "completeness", "inspection", "rectification", "public-evaluation", "adjustments"
]
SOURCE_KINDS: tuple[SourceKind, ...] = (
    "timeliness",
    "completeness",
    "inspection",
    "rectification",
    "public-evaluation",
    "adjustments",
)
MissingPolicy = Literal["zero", "reweight", "group-average"]
RuleKind = Literal["rate", "points", "offset", "best"]
RELATIVE_RULES: frozenset[RuleKind] = frozenset({"best"})
"""Rules whose result for one unit depends on the other units of its group."""


class Rule(Strict):
    """How a raw figure becomes 0–100 (results are clamped to 0–100, rounded to 0.01).

    Absolute rules look at the unit alone:

    * ``rate``: a rate from 0 to 1 (on time ÷ expected, closed ÷ found), × 100;
    * ``points``: points out of ``max`` (an inspection's 100, a ballot scale's top), ÷ max × 100;
    * ``offset``: ``base`` plus the raw points (加分 / 扣分: base 100 and a 3-point deduction
      gives 97).

    Relative rules look at the unit's group:

    * ``best``: the best raw figure of the group is 100, the others in proportion
      (raw ÷ best × 100); when the best is 0 or below, everyone gets 0.
    """

    kind: RuleKind
    max: Decimal | None = Field(default=None, gt=0, description="points: the full mark")
    base: Decimal | None = Field(default=None, ge=0, le=100, description="offset: the start")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return {"kind": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _parameters(self) -> Self:
        if self.max is not None and self.kind != "points":
            raise WordedValueError("only a points rule takes max", "只有 points 规则可以写 max")
        if self.base is not None and self.kind != "offset":
            raise WordedValueError("only an offset rule takes base", "只有 offset 规则可以写 base")
        return self

    @property
    def full_mark(self) -> Decimal:
        return self.max if self.max is not None else Decimal(100)

    @property
    def start(self) -> Decimal:
        return self.base if self.base is not None else Decimal(100)

    @property
    def relative(self) -> bool:
        return self.kind in RELATIVE_RULES


DEFAULT_SCALE: dict[str, Decimal] = {
    "满意": Decimal(100),
    "基本满意": Decimal(80),
    "不满意": Decimal(0),
}


class BallotSpec(Strict):
    """How public-evaluation ballots (民主评议) are counted.

    ``scale`` maps each mark to points (满意 / 基本满意 / 不满意), or is ``0-100`` for marks
    written as numbers. A mark worth ``satisfied_at`` points or more counts as satisfied.
    Each category of evaluators (党代表, 人大代表 …) is one pool: the ``trim`` highest and
    lowest marks of a pool are dropped (去掉最高分最低分) and the rest averaged; the unit's
    figure is the category-weighted mean of its pools (pools with no mark left out), or the
    satisfaction rate (``figure``). A unit with fewer than ``minimum`` valid marks is
    insufficient: not ranked on this source (the missing policy applies).
    """

    scale: dict[str, Decimal] | Literal["0-100"] = Field(default_factory=lambda: DEFAULT_SCALE)
    satisfied_at: Decimal = Field(default=Decimal(60), ge=0)
    trim: int = Field(default=1, ge=0, le=100)
    minimum: int = Field(default=5, ge=1, le=100_000)
    categories: dict[str, Decimal] = Field(
        default_factory=dict, description="category weights; none: one pool"
    )
    figure: Literal["trimmed-mean", "satisfaction-rate"] = "trimmed-mean"

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if isinstance(self.scale, dict) and not self.scale:
            raise WordedValueError("the scale needs at least one mark", "评议档次至少要有一个")
        if any(w <= 0 for w in self.categories.values()):
            raise WordedValueError("category weights must be above 0", "评议类别的权重须大于 0")
        return self

    @property
    def top(self) -> Decimal:
        """The most a mark is worth: the full mark of the trimmed mean."""
        return Decimal(100) if self.scale == "0-100" else max(self.scale.values())


class ScoreSource(Strict):
    """One source of points: its kind (what the ledger or an import gives), its weight, its
    normalisation rule (default by kind) and its missing policy (default: the scoring's)."""

    id: Identifier
    title: str = Field(min_length=1)
    kind: SourceKind
    weight: Decimal = Field(gt=0, le=100)
    rule: Rule | None = None
    missing: MissingPolicy | None = None
    ballots: BallotSpec | None = Field(default=None, description="public-evaluation only")

    @model_validator(mode="before")
    @classmethod
    def _kind_from_id(cls, data: object) -> object:
        """Older files named the kind in the id only (``id: timeliness``)."""
        return kind_from_id(data, SOURCE_KINDS)

    @model_validator(mode="after")
    def _ballots_for_public_evaluation(self) -> Self:
        if self.ballots is not None and self.kind != "public-evaluation":
            raise WordedValueError(
                "only a public-evaluation source takes ballots",
                "只有 public-evaluation（民主评议）来源可以写 ballots",
            )
        return self

    @model_validator(mode="after")
    def _rule_fits_the_figure(self) -> Self:
        """A rate read as points (0.83 of 100) or points read as a rate (88 × 100, clamped
        to 100) would score every unit wrongly without any error: refused here."""
        if self.rule is None:
            return self
        fits = _FITTING_RULES[self._figure_kind]
        if self.rule.kind not in fits:
            raise WordedValueError(
                f"a {self.kind} source gives {self._figure_kind}; its rule is one of "
                f"{', '.join(fits)}, not {self.rule.kind}",
                f"{self.kind} 来源的原始数据是{_FIGURE_ZH[self._figure_kind]}，"
                f"rule 只能是 {'、'.join(fits)}，不能是 {self.rule.kind}",
            )
        return self

    @property
    def _figure_kind(self) -> Literal["a rate", "points"]:
        if self.kind in ("inspection", "adjustments"):
            return "points"
        if self.kind == "public-evaluation" and self.ballot_spec.figure == "trimmed-mean":
            return "points"
        return "a rate"

    @property
    def normalisation(self) -> Rule:
        """The declared rule, or the kind's default: rates for timeliness, completeness and
        rectification; points out of 100 for inspection; the ballot scale's top (or a rate for
        a satisfaction-rate figure) for public evaluation; base 100 for adjustments."""
        if self.rule is not None:
            return self.rule
        if self.kind == "inspection":
            return Rule(kind="points")
        if self.kind == "adjustments":
            return Rule(kind="offset")
        if self.kind == "public-evaluation":
            spec = self.ballot_spec
            if spec.figure == "satisfaction-rate":
                return Rule(kind="rate")
            return Rule(kind="points", max=spec.top)
        return Rule(kind="rate")

    @property
    def ballot_spec(self) -> BallotSpec:
        return self.ballots if self.ballots is not None else BallotSpec()


_FITTING_RULES: dict[str, tuple[RuleKind, ...]] = {
    "a rate": ("rate", "best"),
    "points": ("points", "offset", "best"),
}
_FIGURE_ZH = {"a rate": "比率（0 到 1）", "points": "分数"}


class Targets(Strict):
    """An exemption from the flag: ``all-targets-met`` when the unit's normalised score of
    every source named reaches its target (a source it has no measured figure for fails)."""

    rule: Literal["all-targets-met"] = "all-targets-met"
    targets: dict[Identifier, Decimal] = Field(min_length=1)


class Group(Strict):
    """A ranking group: the units carrying one of ``tags`` (a unit's group is the first group
    whose tag it carries; a group without tags takes every unit left). ``flag_last`` and
    ``commend_top`` default to the scoring's."""

    id: Identifier
    title: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    flag_last: int | None = Field(default=None, ge=0, le=1000)
    commend_top: int | None = Field(default=None, ge=0, le=1000)
    exempt_when: Targets | None = None


class TieBreak(Strict):
    """Between equal totals, the unit with the higher (or lower) normalised score of a source
    goes first; a unit with that source dropped goes last."""

    higher: Identifier | None = None
    lower: Identifier | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.higher is None) == (self.lower is None):
            raise WordedValueError(
                "a tie rule is higher: <source> or lower: <source>",
                "并列规则须写 higher: <来源> 或 lower: <来源>（二者选一）",
            )
        return self

    @property
    def source_id(self) -> str:
        return self.higher or self.lower or ""


class Scoring(Strict):
    sources: list[ScoreSource] = Field(default_factory=list)
    weights: Literal["exact", "scaled"] = Field(
        default="exact",
        description="exact: weights sum to 100; scaled: each is divided by their sum",
    )
    missing: MissingPolicy = "reweight"
    groups: list[Group] = Field(default_factory=list)
    ties: list[TieBreak | Literal["draw"]] = Field(default_factory=list)
    flag_last: int = Field(default=1, ge=0, description="how many last-ranked units to flag")
    commend_top: int = Field(default=0, ge=0, description="how many first-ranked to commend")
    appeal_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="working days a unit has to appeal (复核) once its preliminary score "
        "sheet is published, counted from the day after; the last one counts whole",
    )

    @field_validator("ties")
    @classmethod
    def _draw_last(cls, ties: list[TieBreak | Literal["draw"]]) -> list[TieBreak | Literal["draw"]]:
        if "draw" in ties[:-1]:
            raise WordedValueError(
                "the draw decides last: put draw at the end of ties",
                "抽签是最后的办法：draw 须写在 ties 的最后",
            )
        return ties

    @property
    def tie_rules(self) -> list[TieBreak]:
        """The declared rules before the draw (which always ends the list)."""
        return [t for t in self.ties if isinstance(t, TieBreak)]

    @property
    def ranking_groups(self) -> list[Group]:
        """The declared groups; without any, one group of every unit with the scoring's
        ``flag_last`` and ``commend_top`` (files from before groups)."""
        found = [self._inherit(g) for g in self.groups]
        return found or [
            Group(id="all", title="all", flag_last=self.flag_last, commend_top=self.commend_top)
        ]

    def _inherit(self, group: Group) -> Group:
        return group.model_copy(
            update={
                "flag_last": self.flag_last if group.flag_last is None else group.flag_last,
                "commend_top": self.commend_top if group.commend_top is None else group.commend_top,
            }
        )

    def source(self, source_id: str) -> ScoreSource:
        return next(s for s in self.sources if s.id == source_id)

    def missing_of(self, source: ScoreSource) -> MissingPolicy:
        return source.missing if source.missing is not None else self.missing


def group_of(groups: Sequence[Group], tags: Sequence[str]) -> str | None:
    """The id of the first group whose tag the unit carries (a group without tags takes
    anyone); ``None``: in no group, which the loader refuses."""
    return next((g.id for g in groups if not g.tags or set(g.tags).intersection(tags)), None)
