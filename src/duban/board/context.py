"""What the board holds for its whole life: settings, the campaigns it serves, one engine,
the session cookies, the login throttle, and the status matrix of each campaign, kept until
the ledger changes.

Built once by ``duban board`` (the web's composition root, as ``Runtime`` is the command
line's); every request borrows a database session from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from threading import Lock

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


@dataclass
class _Cached:
    stamp: tuple[object, ...]
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
        """The campaign's matrix, built again only when the ledger changed (a new event,
        duty, file or submission) or the minute turned: twenty readers at once share one."""
        now = self.now().replace(second=0, microsecond=0)
        stamp = (now, *_ledger_stamp(session))
        with self._lock:
            cached = self._matrices.get(campaign_id)
            if cached is not None and cached.stamp == stamp:
                return cached.matrix
            matrix = campaign_matrix(session, campaign_id, self.now())
            self._matrices[campaign_id] = _Cached(stamp, matrix)
            return matrix


def _ledger_stamp(session: Session) -> tuple[object, ...]:
    """Four index lookups that change whenever anything the matrix shows changes: every
    decision appends an event, every reply a file, every acceptance a submission."""
    return tuple(
        session.scalar(select(func.max(column)))
        for column in (EventRow.id, InstanceRow.id, IntakeFileRow.id, SubmissionRow.id)
    )
