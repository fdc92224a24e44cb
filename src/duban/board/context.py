"""What the board holds for its whole life: settings, the campaigns it serves, one engine,
the session cookies, the login throttle, and the status matrix of each campaign, kept until
the ledger changes.

Built once by ``duban board`` (the web's composition root, as ``Runtime`` is the command
line's); every request borrows a database session from it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock, Thread

from sqlalchemy import Engine, func, select
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
"""How far behind the clock a matrix is still shown while the next one is built."""


@dataclass(frozen=True)
class _Cached:
    campaign_id: str
    minute: datetime
    ledger: tuple[object, ...]
    matrix: Matrix


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
        with session_scope(self.engine) as session:
            yield session

    def now(self) -> datetime:
        return self.clock.now()

    def matrix(self, session: Session, campaign_id: str) -> Matrix:
        """The campaign's matrix, built again only when the ledger changed (a new event, duty,
        file or submission) or the minute turned: twenty readers at once share one.

        A reader who needs a new one builds it under the lock, after reading the ledger's stamp
        and the clock again there: one who read them before another reader built the new
        matrix takes that one, and never puts an older one back. When only the clock moved, by
        at most ``STALE_SERVED`` (states move with it: due today, overdue), the reader gets the
        matrix there is and one thread builds the new one beside the readers: at 10,000 units
        a build takes seconds, which every reader would otherwise wait for once a minute. A
        clock moved further (an idle board, a simulated clock moved on) or back, or a changed
        ledger, is waited for."""
        cached = self._matrices.get(campaign_id)
        if cached is not None and self._usable(cached, _ledger_stamp(session)):
            return cached.matrix
        with self._lock:
            ledger = _ledger_stamp(session)
            cached = self._matrices.get(campaign_id)
            if cached is None or not _current(cached, ledger, self.now(), STALE_SERVED):
                now = self.now()
                matrix = campaign_matrix(session, campaign_id, now)
                cached = _Cached(campaign_id, _minute(now), ledger, matrix)
                self._matrices[campaign_id] = cached
        self._usable(cached, ledger)  # built before the minute turned: start the next one
        return cached.matrix

    def _usable(self, cached: _Cached, ledger: tuple[object, ...]) -> bool:
        """Whether ``cached`` may be shown now; when it is a minute or two behind, a build of
        the current minute is started (one at a time)."""
        now = self.now()
        if not _current(cached, ledger, now, STALE_SERVED):
            return False
        if _current(cached, ledger, now, timedelta(0)):
            return True
        campaign_id = cached.campaign_id
        with self._lock:
            if campaign_id in self._building or self._matrices.get(campaign_id) is not cached:
                return True
            self._building.add(campaign_id)
        Thread(target=self._rebuild, args=(campaign_id, cached), daemon=True,
               name=f"matrix {campaign_id}").start()  # fmt: skip
        return True

    def _rebuild(self, campaign_id: str, replaced: _Cached) -> None:
        """Build in a session of its own; kept only if nothing newer was stored meanwhile (a
        reader who found the ledger changed builds at once, and theirs is at least as new)."""
        try:
            with self.session() as db:
                ledger = _ledger_stamp(db)
                now = self.now()
                matrix = campaign_matrix(db, campaign_id, now)
            with self._lock:
                if self._matrices.get(campaign_id) is replaced:
                    self._matrices[campaign_id] = _Cached(campaign_id, _minute(now), ledger, matrix)
        except Exception:  # the readers keep the matrix they have; the next one tries again
            _log.exception("building the status matrix of %s", campaign_id)
        finally:
            with self._lock:
                self._building.discard(campaign_id)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _current(cached: _Cached, ledger: tuple[object, ...], now: datetime,
             behind: timedelta) -> bool:  # fmt: skip
    """Same ledger, and its minute at most ``behind`` before now's (never after it)."""
    late = _minute(now) - cached.minute
    return cached.ledger == ledger and timedelta(0) <= late <= behind


def _ledger_stamp(session: Session) -> tuple[object, ...]:
    """Four index lookups that change whenever anything the matrix shows changes: every
    decision appends an event, every reply a file, every acceptance a submission."""
    return tuple(
        session.scalar(select(func.max(column)))
        for column in (EventRow.id, InstanceRow.id, IntakeFileRow.id, SubmissionRow.id)
    )
