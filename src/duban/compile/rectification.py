"""The rectification figures a progress-report bulletin carries (issue 15 point 6).

A bulletin of a period of a deliverable with ``rectification_progress`` (整改进展月报) reports
on the items, not only on who sent the report: items found, closed and overdue, the closure
rate (整改完成率) and the on-time closure rate (按期整改率), per roster tag and in total, and
which units have overdue items. Only such periods carry them: a bulletin on the 实施方案 says
nothing of rectification even while items exist, since that is not what it reports on.

The figures are computed once here (``rectification_figures``, pure, from
``selfcheck.rates``) and rendered twice, by the bulletin (e-mail and .docx) and by the summary
workbook. Items count in their state at compile time; an item recorded after the compile's
clock is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from duban.selfcheck.items import Item
from duban.selfcheck.rates import Counts, Rules, by_tag, by_unit, counts


@dataclass(frozen=True)
class UnitRates:
    unit_id: str
    unit_name: str
    tags: tuple[str, ...]
    counts: Counts


@dataclass(frozen=True)
class RectificationFigures:
    """The items' figures on ``rules.day``: in total, per roster tag, per unit (roster order)."""

    rules: Rules
    total: Counts
    tags: tuple[tuple[str, Counts], ...]
    units: tuple[UnitRates, ...]

    @property
    def overdue_units(self) -> list[UnitRates]:
        """Units with at least one overdue item, the most overdue first (then by id)."""
        late = [u for u in self.units if u.counts.overdue]
        return sorted(late, key=lambda u: (-u.counts.overdue, u.unit_id))


def rectification_figures(
    items: Iterable[Item],
    rules: Rules,
    roster: Mapping[str, tuple[str, Sequence[str]]],
    as_of: datetime | None = None,
) -> RectificationFigures:
    """The figures of ``items`` (those recorded by ``as_of`` if given) under ``rules``;
    ``roster`` maps each unit id to its name and tags, so a unit without items is listed with
    dashes and a unit the roster no longer has keeps its id as its name."""
    kept = [i for i in items if as_of is None or i.created_at <= as_of]
    tags_of = {unit_id: tuple(tags) for unit_id, (_, tags) in roster.items()}
    per_unit = by_unit(kept, rules, unit_ids=roster)
    units = tuple(
        UnitRates(unit_id, roster.get(unit_id, (unit_id, ()))[0], tags_of.get(unit_id, ()), c)
        for unit_id, c in per_unit.items()
    )
    return RectificationFigures(
        rules=rules,
        total=counts(kept, rules),
        tags=tuple(by_tag(kept, rules, tags_of).items()),
        units=units,
    )
