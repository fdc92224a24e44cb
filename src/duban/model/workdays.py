"""Working days by the Chinese official calendar (or plain weekends), with campaign overrides.

Holiday data comes from the maintained ``chinese-calendar`` package, which knows the public
holidays *and* the adjusted working weekends (调休) of each year it covers. A campaign may close
extra days or open extra ones, and for a year the package does not cover it must declare that
year's days; asking about an undeclared, uncovered year raises ``CalendarUnknownError`` rather than
guessing, because a wrong due date is worse than a loud one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Literal

import chinese_calendar

from duban.errors import CalendarUnknownError

CalendarKind = Literal["cn-official", "weekends"]


@cache
def _official_years() -> frozenset[int]:
    return frozenset(y for y in range(1990, 2200) if _official_covers(y))


def _official_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class DeclaredYear:
    """A year's official days written into the campaign file by the coordinator."""

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkCalendar:
    kind: CalendarKind = "cn-official"
    closed: frozenset[date] = frozenset()
    working: frozenset[date] = frozenset()
    declared_years: Mapping[int, DeclaredYear] = field(default_factory=dict)

    def knows(self, year: int) -> bool:
        if self.kind == "weekends" or year in self.declared_years:
            return True
        return year in _official_years()

    def unknown_years(self, days: Iterable[date]) -> list[int]:
        return sorted({d.year for d in days if not self.knows(d.year)})

    def is_working_day(self, day: date) -> bool:
        if day in self.closed:
            return False
        if day in self.working:
            return True
        return self._base_is_working(day)

    def _base_is_working(self, day: date) -> bool:
        declared = self.declared_years.get(day.year)
        if declared is not None:
            if day in declared.holidays:
                return False
            return day in declared.working_days or day.weekday() < 5
        if self.kind == "weekends":
            return day.weekday() < 5
        if day.year not in _official_years():
            raise unknown_year_error(day.year)
        return _official_workday(day)

    def add_working_days(self, day: date, count: int) -> date:
        """The working day ``count`` working days after (or, negative, before) ``day``.

        ``count == 0`` gives ``day`` itself when it is a working day, else the next one: a rung
        "on the due day" that falls on a holiday moves to the next working morning.
        """
        step = 1 if count >= 0 else -1
        current = day
        if count == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = abs(count)
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 0)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``: how many working days ``end`` is after ``start``."""
        if end <= start:
            return -self.working_days_between(end, start) if end < start else 0
        return sum(
            1
            for n in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=n))
        )


def unknown_year_error(year: int) -> CalendarUnknownError:
    covered = sorted(_official_years())
    span = f"{covered[0]}–{covered[-1]}" if covered else "no years"
    span_zh = f"{covered[0]}—{covered[-1]} 年" if covered else "任何年份"
    return CalendarUnknownError(
        f"the official calendar for {year} is unknown (chinese-calendar covers {span})",
        hint=(
            f"declare it in the campaign file under calendar.years.{year} "
            "(holidays: [...], working_days: [...]) or upgrade chinese-calendar"
        ),
        zh=f"{year} 年的法定节假日安排未知（chinese-calendar 只涵盖 {span_zh}）",
        zh_hint=(
            f"请在活动文件的 calendar.years.{year} 下写明该年的安排"
            "（holidays: [...]，working_days: [...]），或升级 chinese-calendar"
        ),
    )


@lru_cache(maxsize=1 << 12)
def _official_workday(day: date) -> bool:
    """``chinese_calendar``'s answer, remembered: a chase at 1,000 units asked it 52,000 times
    about a few hundred days (1.2 s of the command's profile, mostly its argument checks)."""
    return bool(chinese_calendar.is_workday(day))
