"""What the board holds for its whole life: settings, the campaigns it serves, one engine,
the session cookies, the login throttle, and the status matrix of each campaign, kept until
the ledger changes or the minute turns (``Board.matrix``).

Built once by ``duban board`` (the web's composition root, as ``Runtime`` is the command
line's); every request borrows a database session from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock, Thread

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from duban.board.signin import Cookies, LoginThrottle
from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.db import ensure_ready, make_engine, session_scope
from duban.ledger.schema import EventRow, InstanceRow, IntakeFileRow, SubmissionRow
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.matrix import Matrix
from duban.model.overview import campaign_matrix
from duban.settings import Settings

_log = logging.getLogger(__name__)


STALE_SERVED = timedelta(minutes=2)
"""How far behind the clock a matrix may still be shown while the next one is built."""
WAIT_FOR_BUILDS_UNDER = 0.5
"""Seconds: a matrix that took less to build is built again while the reader waits, so a
small campaign is always shown as the ledger is; a slower one (10,000 units take seconds) is
shown as it is while the next is built beside the readers."""
_WROTE = "duban.board.wrote"


@dataclass(frozen=True)
class _Cached:
    campaign_id: str
    minute: datetime
    ledger: tuple[object, ...]
    writes: int
    """The board's own writes (``Board.session``) the matrix includes."""
    matrix: Matrix
    seconds: float
    """How long the build took."""
    done: float
    """When the build ended (``time.monotonic``)."""


@dataclass
class Board:
    settings: Settings
    bundles: dict[str, CampaignBundle]
    engine: Engine
    clock: Clock
    cookies: Cookies
    throttle: LoginThrottle
    secure_cookies: bool = False
    _matrices: dict[str, _Cached] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)
    _building: set[str] = field(default_factory=set)
    _writes: int = 0
    _writes_lock: Lock = field(default_factory=Lock)

    @classmethod
    def open(cls, settings: Settings, campaign_files: list[Path], *, secure: bool = False) -> Board:
        """The board over the campaigns named by their files (each registered by ``init``)."""
        bundles: dict[str, CampaignBundle] = {}
        for path in campaign_files:
            bundle = load_campaign(path)
            bundles[bundle.campaign.id] = bundle
        if not bundles:
            raise DubanError("name at least one campaign file",
                             hint="duban board data/example/campaign.yaml",
                             zh="请至少写上一个活动文件",
                             zh_hint="如 duban board data/example/campaign.yaml")  # fmt: skip
        engine = make_engine(settings.ledger_url)
        ensure_ready(engine)
        clock = settings.clock()
        return cls(settings, bundles, engine, clock, Cookies(settings.secret_key()),
                   LoginThrottle(clock), secure)  # fmt: skip

    @property
    def language(self) -> str:
        """The language of the pages before a campaign is chosen: the first campaign's."""
        return next(iter(self.bundles.values())).campaign.language

    def bundle(self, campaign_id: str) -> CampaignBundle | None:
        return self.bundles.get(campaign_id)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work; one that wrote (an action) is counted once committed, so the
        matrix of the next page is built with it before it is shown."""
        with session_scope(self.engine) as session:
            event.listen(session, "after_flush", _note_flush)
            yield session
        if session.info.get(_WROTE):
            with self._writes_lock:
                self._writes += 1

    def now(self) -> datetime:
        return self.clock.now()

    def matrix(self, session: Session, campaign_id: str) -> Matrix:
        """The campaign's matrix, built again when the ledger changed (a new event, duty, file
        or submission) or the minute turned (states move with the clock): readers share one.

        A reader waits for the new one when the board itself wrote since (an action: the next
        page shows it), when the clock moved more than ``STALE_SERVED`` or back (an idle
        board, a simulated clock moved on), or when a build is quick
        (``WAIT_FOR_BUILDS_UNDER``). Otherwise (another process writing, such as a collect
        run recording replies every second, or the minute turning) readers get the matrix
        there is while one thread builds the next beside them: at 10,000 units a build takes
        seconds, and readers waiting for one after every write would wait for ever. The one
        who builds does it under the lock, after reading the ledger's stamp and the clock
        again there: a reader who read them before another built never builds an older one
        again."""
        cached = self._matrices.get(campaign_id)
        ledger = _ledger_stamp(session)
        if cached is not None and self._shown(cached, ledger):
            return cached.matrix
        with self._lock:
            ledger, now = _ledger_stamp(session), self.now()
            cached = self._matrices.get(campaign_id)
            if cached is None or not self._showable(cached, ledger, now):
                cached = self._build(session, campaign_id, ledger)
                self._matrices[campaign_id] = cached
        self._shown(cached, ledger)  # one built by another, already behind: build the next
        return cached.matrix

    def _build(self, session: Session, campaign_id: str, ledger: tuple[object, ...]) -> _Cached:
        writes, started, now = self._writes, time.monotonic(), self.now()
        matrix = campaign_matrix(session, campaign_id, now)
        done = time.monotonic()
        return _Cached(campaign_id, _minute(now), ledger, writes, matrix, done - started, done)

    def _showable(self, cached: _Cached, ledger: tuple[object, ...], now: datetime) -> bool:
        """Current, or behind in a way a reader need not wait for (``matrix``)."""
        behind = _minute(now) - cached.minute
        if not timedelta(0) <= behind <= STALE_SERVED:
            return False
        if cached.ledger == ledger and behind == timedelta(0):
            return True
        return cached.writes == self._writes and cached.seconds >= WAIT_FOR_BUILDS_UNDER

    def _shown(self, cached: _Cached, ledger: tuple[object, ...]) -> bool:
        """Whether ``cached`` may be shown now; when it is behind, the next build is started
        (one at a time, and after a pause as long as the last build: half a core at most)."""
        now = self.now()
        if not self._showable(cached, ledger, now):
            return False
        if cached.ledger == ledger and cached.minute == _minute(now):
            return True
        campaign_id = cached.campaign_id
        with self._lock:
            if (campaign_id in self._building or self._matrices.get(campaign_id) is not cached
                    or time.monotonic() < cached.done + cached.seconds):  # fmt: skip
                return True
            self._building.add(campaign_id)
        Thread(target=self._rebuild, args=(cached,), daemon=True,
               name=f"matrix {campaign_id}").start()  # fmt: skip
        return True

    def _rebuild(self, replaced: _Cached) -> None:
        """Build in a session of its own; kept only if nothing newer was stored meanwhile (a
        reader who had to wait built one, at least as new)."""
        campaign_id = replaced.campaign_id
        try:
            with self.session() as db:
                built = self._build(db, campaign_id, _ledger_stamp(db))
            with self._lock:
                if self._matrices.get(campaign_id) is replaced:
                    self._matrices[campaign_id] = built
        except Exception:  # the readers keep the matrix they have; the next one tries again
            _log.exception("building the status matrix of %s", campaign_id)
        finally:
            with self._lock:
                self._building.discard(campaign_id)


def _note_flush(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _ledger_stamp(session: Session) -> tuple[object, ...]:
    """Four index lookups that change whenever anything the matrix shows changes: every
    decision appends an event, every reply a file, every acceptance a submission."""
    return tuple(
        session.scalar(select(func.max(column)))
        for column in (EventRow.id, InstanceRow.id, IntakeFileRow.id, SubmissionRow.id)
    )
