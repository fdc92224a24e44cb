from __future__ import annotations

from datetime import date

import pytest

from duban.errors import CalendarUnknownError
from duban.model.workdays import DeclaredYear, WorkCalendar

CN = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # adjusted working Saturday (调休)
        (date(2026, 2, 16), False),  # Spring Festival, a Monday
        (date(2026, 2, 28), True),  # adjusted working Saturday after it
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 10), True),  # adjusted working Saturday after National Day
    ],
)
def test_official_calendar_knows_holidays_and_adjusted_weekends(day: date, working: bool) -> None:
    assert CN.is_working_day(day) is working


def test_adding_working_days_skips_the_national_day_week() -> None:
    # 30 Sep is a Wednesday; 1-7 Oct are off; 8, 9, 10 (Saturday, adjusted), 12, 13.
    assert CN.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_counting_back_skips_holidays_too() -> None:
    assert CN.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_zero_offset_moves_a_holiday_to_the_next_working_day() -> None:
    assert CN.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)
    assert CN.add_working_days(date(2026, 10, 9), 0) == date(2026, 10, 9)


def test_campaign_overrides_win_over_the_official_calendar() -> None:
    calendar = WorkCalendar(
        closed=frozenset({date(2026, 3, 4)}), working=frozenset({date(2026, 3, 7)})
    )
    assert not calendar.is_working_day(date(2026, 3, 4))
    assert calendar.is_working_day(date(2026, 3, 7))


def test_an_uncovered_year_is_refused_with_a_hint() -> None:
    with pytest.raises(CalendarUnknownError) as caught:
        CN.is_working_day(date(2027, 1, 4))
    assert "2027" in str(caught.value)
    assert "calendar.years.2027" in str(caught.value)


def test_a_declared_year_is_used_where_the_package_stops() -> None:
    declared = DeclaredYear(
        holidays=frozenset({date(2027, 1, 1)}), working_days=frozenset({date(2027, 1, 9)})
    )
    calendar = WorkCalendar(declared_years={2027: declared})
    assert not calendar.is_working_day(date(2027, 1, 1))  # a declared holiday (Friday)
    assert calendar.is_working_day(date(2027, 1, 9))  # a declared working Saturday
    assert not calendar.is_working_day(date(2027, 1, 10))  # an ordinary Sunday
    assert calendar.knows(2027)
    assert not CN.knows(2027)


def test_weekend_calendar_ignores_chinese_holidays() -> None:
    calendar = WorkCalendar(kind="weekends")
    assert calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2031, 6, 2))


def test_working_days_between_counts_lateness() -> None:
    assert CN.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert CN.working_days_between(date(2026, 10, 13), date(2026, 9, 30)) == -5
    assert CN.working_days_between(date(2026, 3, 5), date(2026, 3, 5)) == 0
