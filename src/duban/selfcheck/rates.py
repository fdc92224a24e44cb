"""Closure rates per unit and per tag, as bulletins report them (整改完成率, 按期整改率).

* found: items recorded, cancelled ones left out (作废 means it was never a problem to fix);
* closed: items closed (销号); overdue: open items overdue on the day asked (``states``);
* closure rate (整改完成率) = closed ÷ found;
* on-time closure rate = closed on or before the effective deadline ÷ closed (a long-term item
  closed counts as on time: it had no deadline to miss).

A rate with nothing under it is ``None`` (shown as —), not 0 or 100 %: a unit with no items is
neither failing nor perfect. Everything here is pure; ``ledger.list_items`` gathers the items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from duban.model.workdays import WorkCalendar
from duban.selfcheck.items import Item
from duban.selfcheck.states import State, closed_on_time, overdue_on


@dataclass(frozen=True)
class Counts:
    found: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.found - self.closed

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.found if self.found else None

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed if self.closed else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.found + other.found,
            self.closed + other.closed,
            self.closed_on_time + other.closed_on_time,
            self.overdue + other.overdue,
            self.cancelled + other.cancelled,
        )


@dataclass(frozen=True)
class Rules:
    """What deciding overdue and on time needs: the day asked (local), the campaign's calendar
    and zone, and whether a deadline on a day off rolls to the next working day."""

    day: date
    calendar: WorkCalendar
    zone: ZoneInfo
    roll: bool = True


def count_item(item: Item, rules: Rules) -> Counts:
    """One item's contribution to the counts."""
    if item.state == State.CANCELLED:
        return Counts(cancelled=1)
    closed = item.state == State.CLOSED
    return Counts(
        found=1,
        closed=int(closed),
        closed_on_time=int(closed and closed_on_time(item, rules.calendar, rules.zone, rules.roll)),
        overdue=int(overdue_on(item, rules.day, rules.calendar, rules.roll)),
    )


def counts(items: Iterable[Item], rules: Rules) -> Counts:
    total = Counts()
    for item in items:
        total += count_item(item, rules)
    return total


def by_unit(items: Iterable[Item], rules: Rules, unit_ids: Iterable[str] = ()) -> dict[str, Counts]:
    """Counts per unit, in unit order; ``unit_ids`` (the roster) adds units with no item."""
    found: dict[str, Counts] = dict.fromkeys(unit_ids, Counts())
    for item in items:
        found[item.unit_id] = found.get(item.unit_id, Counts()) + count_item(item, rules)
    return dict(sorted(found.items()))


def by_tag(
    items: Iterable[Item], rules: Rules, tags_of: Mapping[str, Iterable[str]]
) -> dict[str, Counts]:
    """Counts per roster tag (``tags_of``: unit id to its tags, as ``Unit.tags``); a unit with
    several tags counts under each, a unit with none under none. Every tag of the roster is
    listed, with zeros if its units have no item."""
    tags = {unit: tuple(ts) for unit, ts in tags_of.items()}
    found: dict[str, Counts] = {t: Counts() for ts in tags.values() for t in ts}
    for unit_id, unit_counts in by_unit(items, rules).items():
        for tag in tags.get(unit_id, ()):
            found[tag] += unit_counts
    return dict(sorted(found.items()))
