"""At most N posts to one bot in any 60 seconds of the clock (a sliding window).

DingTalk and WeCom group bots take about 20 messages a minute and refuse the rest (DingTalk
also mutes a bot that keeps trying for a while), so duban waits instead of being refused. The
window slides: before a post at time t, fewer than N posts may lie in (t - 60 s, t]; that keeps
every 60-second interval, wherever it starts, at N posts or fewer, which a per-minute counter
reset on the minute does not (it allows 2N across a minute boundary).

Time is the ``Clock``'s and waiting is the injected ``sleep``: production passes the system
clock and ``time.sleep``; tests pass a ``FixedClock`` and a sleep that advances it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from duban.clock import Clock
from duban.errors import DubanError

WINDOW = timedelta(seconds=60)


class SlidingWindowLimiter:
    """Per-key sliding-window limit; ``acquire`` waits for a free slot and takes it."""

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int,
        sleep: Callable[[float], None],
        window: timedelta = WINDOW,
    ) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least one post per window")
        self._clock = clock
        self._limit = limit
        self._sleep = sleep
        self._window = window
        self._sent: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> datetime:
        """Wait until a post to ``key`` is allowed, record it, and return the clock's time."""
        while True:
            with self._lock:
                now = self._clock.now()
                wait = self._wait_or_take(key, now)
            if wait is None:
                return now
            self._sleep(wait)
            if self._clock.now() == now:
                # A FixedClock with a real sleep would wait here forever.
                raise DubanError(
                    "the clock did not move while waiting for a group bot's rate limit",
                    hint="pass a sleep that advances the clock (or the system clock)",
                    zh="等待群机器人发送限额时时钟没有走动",
                    zh_hint="请传入能推进时钟的等待函数（或使用系统时钟）",
                )

    def _wait_or_take(self, key: str, now: datetime) -> float | None:
        """Seconds to wait for a slot, or ``None`` after taking one at ``now``."""
        recent = self._sent.setdefault(key, deque())
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if len(recent) < self._limit:
            recent.append(now)
            return None
        return max((recent[0] + self._window - now).total_seconds(), 0.0)
