from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from duban.model.campaign import Assign, Deliverable, DueRule, Phase
from duban.model.due import calendar_periods, due_instant, periods_for
from duban.model.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = Phase(
    id="implement",
    kind="implement",
    title="组织推进",
    start=date(2026, 3, 6),
    end=date(2026, 12, 31),
)


def deliverable(**due: object) -> Deliverable:
    return Deliverable.model_validate(
        {"id": "d", "phase": "implement", "title": "t", "form": "f", "assign": Assign(all=True),
         "due": due}
    )  # fmt: skip


def test_the_whole_due_day_counts_by_default() -> None:
    instant = due_instant(date(2026, 3, 5), DueRule(date=date(2026, 3, 5)), SHANGHAI)
    assert instant == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # midnight in Shanghai


def test_a_cutoff_ends_the_due_day_early() -> None:
    rule = DueRule(date=date(2026, 9, 18), cutoff=time(17, 30))
    assert due_instant(date(2026, 9, 18), rule, SHANGHAI) == datetime(
        2026, 9, 18, 9, 30, tzinfo=UTC
    )


def test_fixed_rule_gives_one_period() -> None:
    [period] = periods_for(deliverable(date="2026-03-05"), YEAR, WorkCalendar(), SHANGHAI)
    assert (period.label, period.due_date) == ("once", date(2026, 3, 5))
    assert period.is_on_time(datetime(2026, 3, 5, 15, 59, tzinfo=UTC))
    assert not period.is_on_time(datetime(2026, 3, 5, 16, 0, tzinfo=UTC))


def test_quarters_overlapping_the_phase() -> None:
    labels = [p[0] for p in calendar_periods("quarter", date(2026, 3, 6), date(2026, 12, 31))]
    assert labels == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


def test_half_years_months_and_years_are_labelled() -> None:
    assert [p[0] for p in calendar_periods("half-year", date(2026, 1, 1), date(2026, 12, 31))] == [
        "2026-H1",
        "2026-H2",
    ]
    assert [p[0] for p in calendar_periods("month", date(2026, 11, 15), date(2027, 1, 2))] == [
        "2026-11",
        "2026-12",
        "2027-01",
    ]
    assert calendar_periods("year", date(2026, 5, 1), date(2026, 5, 2))[0][1:] == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )


def test_working_day_offsets_step_over_national_day() -> None:
    d = deliverable(every="month", offset_working_days=5, start="2026-09-01", end="2026-09-30")
    [september] = periods_for(d, YEAR, WorkCalendar(), SHANGHAI)
    assert (september.label, september.due_date) == ("2026-09", date(2026, 10, 13))


def test_negative_calendar_offset_rolls_to_a_working_day() -> None:
    # 30 Jun - 6 days is Wednesday 24 Jun (a working day); 31 Mar - 6 is 25 Mar.
    d = deliverable(every="quarter", offset_days=-6, roll="next-working-day")
    dues = [p.due_date for p in periods_for(d, YEAR, WorkCalendar(), SHANGHAI)]
    assert dues == [date(2026, 3, 25), date(2026, 6, 24), date(2026, 9, 24), date(2026, 12, 25)]


def test_a_day_of_the_last_month_is_that_day_whatever_the_months_length() -> None:
    """每季度最后一个月25日前: the 25th of March, June, September and December. An offset from
    the quarter's end cannot say it (31 Mar - 6 is the 25th, 30 Jun - 6 the 24th). 25 Sep 2026
    is the Mid-Autumn Festival: rolled to Monday 28 Sep."""
    d = deliverable(every="quarter", day=25, roll="next-working-day")
    dues = [p.due_date for p in periods_for(d, YEAR, WorkCalendar(), SHANGHAI)]
    assert dues == [date(2026, 3, 25), date(2026, 6, 25), date(2026, 9, 28), date(2026, 12, 25)]
    d = deliverable(every="month", day=31, start="2026-01-01", end="2026-04-30")
    dues = [p.due_date for p in periods_for(d, YEAR, WorkCalendar(), SHANGHAI)]
    assert dues == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_roll_moves_a_holiday_due_date() -> None:
    d = deliverable(date="2026-10-01", roll="next-working-day")
    [period] = periods_for(d, YEAR, WorkCalendar(), SHANGHAI)
    assert period.due_date == date(2026, 10, 8)


@pytest.mark.parametrize(
    ("due", "message"),
    [
        ({"every": "quarter", "day": 25, "offset_days": -6}, "one of offset_working_days"),
        ({"date": "2026-03-05", "day": 5}, "takes no offset, day"),
        ({"every": "month", "day": 32}, "less than or equal to 31"),
        ({"every": "month", "day": 0}, "greater than or equal to 1"),
    ],
)
def test_a_due_day_of_the_month_is_one_rule_among_others(
    due: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        deliverable(**due)
