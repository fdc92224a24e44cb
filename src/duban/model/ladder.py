"""The reminder ladder (提醒 → 催办 → 督办 → 约谈): which rung is due for a duty, and when.

Each rung falls on a working day at a working-day offset from the due day (negative before,
positive after; 0 is the due day, or the next working day when the due day is a holiday), at the
rung's time of day. A duty already submitted or exempted gets nothing. When a chase run finds
several rungs due (the office was closed, chase did not run), only the highest is sent: a unit
whose deadline has passed is not told it has three days left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from duban.model.campaign import OfficeHours, Rung
from duban.model.status import PENDING, State, due_day
from duban.model.workdays import WorkCalendar

CHASED = PENDING | {State.OVERDUE, State.REJECTED}


@dataclass(frozen=True)
class DueRung:
    rung: Rung
    day: date
    at: datetime


def rung_time(
    effective_due: datetime, rung: Rung, calendar: WorkCalendar, zone: ZoneInfo
) -> DueRung:
    last_day = due_day(effective_due, zone)
    day = calendar.add_working_days(last_day, rung.offset_working_days)
    return DueRung(rung, day, datetime.combine(day, rung.at, tzinfo=zone))


def due_rung(
    state: State,
    effective_due: datetime,
    ladder: Sequence[Rung],
    as_of: datetime,
    calendar: WorkCalendar,
    zone: ZoneInfo,
) -> DueRung | None:
    """The highest rung whose time has come, for a duty still owed; else None."""
    if state not in CHASED:
        return None
    due = [r for r in (rung_time(effective_due, rung, calendar, zone) for rung in ladder)
           if r.at <= as_of]  # fmt: skip
    return max(due, key=lambda r: (r.at, r.rung.offset_working_days), default=None)


def office_open(
    as_of: datetime, hours: OfficeHours, calendar: WorkCalendar, zone: ZoneInfo
) -> bool:
    """Reminders go out on working days within office hours only (quiet hours respected)."""
    local = as_of.astimezone(zone)
    return calendar.is_working_day(local.date()) and hours.start <= local.time() < hours.end
