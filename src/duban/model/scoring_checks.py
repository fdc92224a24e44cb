"""The scoring's references checked against the campaign and its roster.

A group tag nobody carries, a unit in no group (never ranked, never flagged), a tie rule or a
target naming a source that does not exist, or weights that do not add up would each make the
year's ranking quietly wrong: ``duban validate`` names them before anything is computed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from duban.errors import Problem, some_of
from duban.model.roster import Unit
from duban.model.scoring import Scoring, group_of


def check_scoring(scoring: Scoring, units: Sequence[Unit]) -> Iterator[Problem]:
    yield from _unique("sources", [s.id for s in scoring.sources])
    yield from _unique("groups", [g.id for g in scoring.groups])
    yield from _check_weights(scoring)
    yield from _check_groups(scoring, units)
    yield from _check_references(scoring)


def _unique(name: str, ids: list[str]) -> Iterator[Problem]:
    for dupe in sorted({i for i in ids if ids.count(i) > 1}):
        yield Problem(
            f"scoring.{name}[{ids.index(dupe)}].id",
            f"id {dupe!r} is used more than once",
            zh=f"编号“{dupe}”用了不止一次",
        )


def _check_weights(scoring: Scoring) -> Iterator[Problem]:
    total = sum((s.weight for s in scoring.sources), Decimal(0))
    if scoring.sources and scoring.weights == "exact" and total != 100:
        yield Problem(
            "scoring.sources",
            f"the weights add up to {total}, not 100; correct them, or write "
            "weights: scaled to divide each by their sum",
            zh=f"各来源权重合计为 {total}，不是 100；请改正，或写 weights: scaled "
            "（按各权重占合计的比例折算）",
        )


def _check_groups(scoring: Scoring, units: Sequence[Unit]) -> Iterator[Problem]:
    known_tags = {t for u in units for t in u.tags}
    for i, group in enumerate(scoring.groups):
        for j, tag in enumerate(group.tags):
            if tag not in known_tags:
                yield Problem(
                    f"scoring.groups[{i}].tags[{j}]",
                    f"no unit on the roster has tag {tag!r}",
                    zh=f"花名册中没有带标签“{tag}”的单位",
                )
    groups = scoring.ranking_groups
    stray = [u.id for u in units if group_of(groups, u.tags) is None]
    if stray:
        shown = some_of(stray)
        yield Problem(
            "scoring.groups",
            f"units carry none of the groups' tags, so they would never be ranked: {shown}; "
            "add their tag to a group, or a last group without tags",
            zh=f"这些单位不带任何考核分组的标签，将不参加排名：{shown}；"
            "请把它们的标签加入某个分组，或在最后加一个不写 tags 的分组",
        )


def _check_references(scoring: Scoring) -> Iterator[Problem]:
    sources = [s.id for s in scoring.sources]
    named = [
        (f"scoring.ties[{i}]", tie.source_id)
        for i, tie in enumerate(scoring.ties)
        if not isinstance(tie, str)
    ] + [
        (f"scoring.groups[{i}].exempt_when.targets.{source_id}", source_id)
        for i, g in enumerate(scoring.groups)
        if g.exempt_when is not None
        for source_id in g.exempt_when.targets
    ]
    for where, source_id in named:
        if source_id not in sources:
            yield Problem(
                where,
                f"no score source {source_id!r}; sources are {', '.join(sources)}",
                zh=f"没有计分来源“{source_id}”；现有来源：{'、'.join(sources)}",
            )
