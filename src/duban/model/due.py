"""Due rules turned into periods and due times.

A fixed rule gives one period (``once``). A recurrence gives one period per month, quarter,
half-year or year that overlaps the deliverable's window (its phase by default), each due at an
offset from the period's last day: ``offset_working_days: 5`` is the fifth working day after,
``-5`` the fifth working day before; ``offset_days`` counts calendar days; ``day: 25`` is the
25th of the period's last month (the 30th of a 30-day month for ``day: 31``), which no offset
can say: quarters end on the 31st and the 30th.

The due day counts whole: on time means received before local midnight at its end, or before
``cutoff`` on the due day when one is set. ``due_at`` is that exclusive instant in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from duban.model.campaign import Deliverable, DueRule, Phase, Recurrence
from duban.model.workdays import WorkCalendar

ONCE = "once"
_MONTHS_PER: dict[Recurrence, int] = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date
    due_date: date
    due_at: datetime

    def is_on_time(self, received_at: datetime) -> bool:
        return received_at < self.due_at


def periods_for(
    deliverable: Deliverable, phase: Phase, calendar: WorkCalendar, zone: ZoneInfo
) -> list[Period]:
    rule = deliverable.due
    if rule.date is not None:
        due_date = _before(rule, _roll(rule, rule.date, calendar), calendar)
        return [Period(ONCE, phase.start, phase.end, due_date, due_instant(due_date, rule, zone))]
    assert rule.every is not None  # guaranteed by DueRule's validator
    window_start, window_end = rule.start or phase.start, rule.end or phase.end
    periods = []
    for label, start, end in calendar_periods(rule.every, window_start, window_end):
        due_date = _before(rule, _roll(rule, _offset(rule, end, calendar), calendar), calendar)
        periods.append(Period(label, start, end, due_date, due_instant(due_date, rule, zone)))
    return periods


def calendar_periods(
    every: Recurrence, window_start: date, window_end: date
) -> list[tuple[str, date, date]]:
    """Every calendar period of the recurrence that overlaps ``[window_start, window_end]``."""
    months = _MONTHS_PER[every]
    year, month = window_start.year, ((window_start.month - 1) // months) * months + 1
    found = []
    while date(year, month, 1) <= window_end:
        start = date(year, month, 1)
        next_year, next_month = divmod(month - 1 + months, 12)
        end = date(year + next_year, next_month + 1, 1) - timedelta(days=1)
        found.append((_label(every, start), start, end))
        year, month = year + next_year, next_month + 1
    return found


def _label(every: Recurrence, start: date) -> str:
    if every == "month":
        return f"{start.year}-{start.month:02d}"
    if every == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if every == "half-year":
        return f"{start.year}-H{1 if start.month <= 6 else 2}"
    return str(start.year)


def _offset(rule: DueRule, period_end: date, calendar: WorkCalendar) -> date:
    if rule.offset_working_days is not None:
        return calendar.add_working_days(period_end, rule.offset_working_days)
    if rule.day is not None:  # the period's last month: period_end is its last day
        return period_end.replace(day=min(rule.day, period_end.day))
    return period_end + timedelta(days=rule.offset_days or 0)


def _roll(rule: DueRule, due_date: date, calendar: WorkCalendar) -> date:
    return calendar.next_working_day(due_date) if rule.roll == "next-working-day" else due_date


def _before(rule: DueRule, due_date: date, calendar: WorkCalendar) -> date:
    """Partners' parts: the working day ``before_working_days`` before the lead's due day."""
    if rule.before_working_days is None:
        return due_date
    return calendar.add_working_days(due_date, -rule.before_working_days)


def due_instant(due_date: date, rule: DueRule, zone: ZoneInfo) -> datetime:
    if rule.cutoff is not None:
        local = datetime.combine(due_date, rule.cutoff, tzinfo=zone)
    else:
        local = datetime.combine(due_date + timedelta(days=1), time(0, 0), tzinfo=zone)
    return local.astimezone(UTC)
