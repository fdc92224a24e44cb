"""The inspections' references checked against the campaign and its roster.

A draw over a stratum nobody is in, or a unit in scope that belongs to no stratum, would
silently leave units out of every draw: the coordinator hears of it from ``duban validate``,
naming the inspection and the units, before any draw is committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from duban.errors import Problem, some_of
from duban.model.campaign import Campaign
from duban.model.inspections import InspectionSpec, scope_units, stratum_of
from duban.model.roster import Unit


def check_inspections(campaign: Campaign, units: Sequence[Unit]) -> Iterator[Problem]:
    checklists = {c.id for c in campaign.checklists}
    for n, spec in enumerate(campaign.inspections):
        at = f"inspections[{n}]"
        if spec.checklist not in checklists:
            yield Problem(
                f"{at}.checklist",
                f"no checklist {spec.checklist!r}; checklists are {sorted(checklists)}",
                zh=f"没有评分表“{spec.checklist}”；现有评分表：{'、'.join(sorted(checklists))}",
            )
        yield from _check_scope(spec, units, at)


def _check_scope(spec: InspectionSpec, units: Sequence[Unit], at: str) -> Iterator[Problem]:
    known_units = {u.id for u in units}
    known_tags = {t for u in units for t in u.tags}
    scope = spec.scope
    for field, values in (("units", scope.units), ("exclude", scope.exclude)):
        for j, unit_id in enumerate(values):
            if unit_id not in known_units:
                yield Problem(
                    f"{at}.scope.{field}[{j}]",
                    f"unit {unit_id!r} is not on the roster",
                    zh=f"单位“{unit_id}”不在花名册中",
                )
    for field, tags in (("scope.tags", scope.tags), ("sample.strata", spec.sample.strata)):
        for j, tag in enumerate(tags):
            if tag not in known_tags:
                yield Problem(
                    f"{at}.{field}[{j}]",
                    f"no unit on the roster has tag {tag!r}",
                    zh=f"花名册中没有带标签“{tag}”的单位",
                )
    in_scope = scope_units(spec, units)
    if not in_scope:
        yield Problem(f"{at}.scope", "selects no unit at all", zh="一个单位也没有选中")
    stray = [u.id for u in in_scope if stratum_of(spec, u) is None]
    if stray:
        shown = some_of(stray)
        yield Problem(
            f"{at}.sample.strata",
            f"units in scope carry none of the strata tags, so no draw could pick them: {shown}; "
            "add a tag to the strata or exclude them",
            zh=f"范围内这些单位不属于任何分层标签，抽取时永远抽不到：{shown}；"
            "请把它们的标签加入 strata，或在 scope.exclude 中排除",
        )
