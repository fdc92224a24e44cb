"""The one way duban learns the time.

Nothing reads the wall clock except through a ``Clock``: the demo and the tests walk a whole
campaign year in minutes by handing in a ``FixedClock`` (``--as-of`` / ``DUBAN_NOW``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it is told; ``advance`` moves it, as the demo does."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = ensure_aware(at)


def ensure_aware(at: datetime) -> datetime:
    """Refuse naive datetimes at the edge: a naive time is a time zone bug waiting."""
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ValueError(f"{at.isoformat()} has no time zone; give an offset such as +08:00")
    return at.astimezone(UTC)


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """Read ``--as-of``: an ISO date or datetime; without an offset it is local time in ``zone``.

    A bare date means the start of that day, so ``--as-of 2026-03-06`` sees a 5 March deadline
    as passed.
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        message = f"{text!r} is not a date or time; write 2026-03-06 or 2026-03-06T09:00"
        raise ValueError(message) from None
    if len(text) == 10:
        parsed = datetime.combine(date.fromisoformat(text), time(0, 0))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)
