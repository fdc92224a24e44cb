"""The composition root: one settings object in, everything a use case needs out.

A ``Runtime`` opens the campaign, the ledger, the clock, the secret and the templates once, and
hands out the edges a use case is given (a mailer, a mail source, an intake with its readers, a
bot sender), each built here and nowhere else. The CLI and every Prefect task go through it; a
task builds its own from the settings it was given, because it may run in another process than
its flow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from duban.adapters.render import environment
from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.db import ensure_ready, make_engine, migrate, session_scope
from duban.model.loader import CampaignBundle, load_campaign
from duban.settings import Settings

if TYPE_CHECKING:  # each edge is imported by the run that uses it, not by every command
    from duban.adapters.bots.sender import BotSender
    from duban.adapters.bots.spec import BotSpec
    from duban.adapters.mail.mailer import SmtpMailer
    from duban.adapters.sources.model import Source
    from duban.implement.chase import BotPoster
    from duban.implement.intake.pipeline import Intake
    from duban.implement.intake.rawstore import RawStore


class Runtime:
    """One run's campaign, ledger and edges; ``close`` (or ``with``) disposes of the engine."""

    def __init__(
        self,
        settings: Settings,
        campaign_file: str | Path | None = None,
        *,
        on_wait: Callable[[str], None] | None = None,
        bundle: CampaignBundle | None = None,
    ) -> None:
        """``on_wait`` is told the name of a lock another run holds before this run waits
        for it (the CLI says so on stderr); ``bundle``: the campaign of ``campaign_file``,
        loaded already (a flow run's batch tasks share one, ``tasks.runtime``)."""
        self.settings = settings
        self.campaign_file = None if campaign_file is None else Path(campaign_file)
        self.clock: Clock = settings.clock()
        self.on_wait = on_wait
        self._owns_engine = True
        self._pid = os.getpid()
        if bundle is not None:
            self.__dict__["bundle"] = bundle  # the cached property, already loaded

    @classmethod
    def sharing(
        cls, settings: Settings, bundle: CampaignBundle, engine: Engine, clock: Clock
    ) -> Runtime:
        """A runtime over a campaign, ledger and clock another owner opened and keeps (the
        board's, shared by every request): ``close`` leaves the engine to that owner."""
        rt = cls(settings, bundle.path)
        rt.clock, rt._owns_engine = clock, False
        rt.__dict__.update(bundle=bundle, engine=engine)  # the cached properties, already open
        return rt

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_engine and "engine" in self.__dict__:
            self.engine.dispose()

    @cached_property
    def bundle(self) -> CampaignBundle:
        if self.campaign_file is None:
            raise DubanError(
                "no campaign file given",
                hint="name the campaign YAML file",
                zh="没有指定活动文件",
                zh_hint="请写上活动的 YAML 文件",
            )
        return load_campaign(self.campaign_file)

    @cached_property
    def engine(self) -> Engine:
        """The ledger, checked to be at the current migration (``init`` creates it)."""
        engine = make_engine(self.settings.ledger_url)
        ensure_ready(engine)
        return engine

    @contextmanager
    def migrated(self) -> Iterator[Session]:
        """A session on the ledger, created or upgraded first (``init`` and ``status``)."""
        if "engine" not in self.__dict__:
            engine = make_engine(self.settings.ledger_url)
            migrate(engine)
            self.__dict__["engine"] = engine
        with self.session() as session:
            yield session

    def check(
        self, *, secret: bool = False, smtp: bool = False, intake: bool = False, bots: bool = False
    ) -> None:
        """Check before anything runs what the command will need: the campaign file and the
        ledger always, and the secret, the mail server (connect and log in), the mailbox
        and the bot settings when asked; a wrong setting is named here, in one sentence."""
        _ = self.bundle, self.engine
        if secret:
            _ = self.secret
        if bots:
            self.settings.bot_specs()
        if smtp:
            with self.mailer():
                pass
        if intake:
            with self.source():
                pass

    @cached_property
    def env(self) -> Environment:
        return environment(self.settings.templates)

    @cached_property
    def secret(self) -> bytes:
        return self.settings.secret_key()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def forked(self) -> None:
        """In a forked child (``adapters.forked``): let go of the ledger connections pooled by
        the parent, without closing them (they are the parent's), so this process opens its
        own. Nothing to do where the work was not forked."""
        if "engine" in self.__dict__ and self._pid != os.getpid():
            self.engine.dispose(close=False)
            self._pid = os.getpid()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """The ledger's lock ``name`` held for the block (``ledger.locks``): one run at a time
        over a mailbox; a run killed with ``kill -9`` lets go of it."""
        from duban.ledger.locks import exclusive

        on_wait = self.on_wait
        with exclusive(self.engine, name, None if on_wait is None else lambda: on_wait(name)):
            yield

    @contextmanager
    def mailer(self) -> Iterator[SmtpMailer]:
        """One SMTP connection for a batch (``DUBAN_SMTP_URL``); the bytes it sends are kept
        in the raw store and made durable a group at a time (``dispatch``), not each alone."""
        from duban.adapters.mail.mailer import SmtpMailer
        from duban.adapters.mail.smtp_url import parse_smtp_url

        store, config = self.raw_store, parse_smtp_url(self.settings.smtp())
        with SmtpMailer(config, keep=store.put_later, settle=store.settle) as mailer:
            yield mailer

    @cached_property
    def raw_store(self) -> RawStore:
        """Every byte received and sent, content-addressed (留痕)."""
        from duban.implement.intake.rawstore import RawStore

        return RawStore(self.settings.raw_store, self.settings.store_flush)

    @contextmanager
    def source(self) -> Iterator[Source]:
        """The mailbox or folder ``DUBAN_INTAKE`` names, logged in and checked."""
        from duban.adapters.sources import open_source

        source = open_source(self.settings.intake_spec())
        try:
            yield source
        finally:
            source.close()

    @contextmanager
    def intake(self, workers: int = 2) -> Iterator[Intake]:
        """The intake of this campaign: raw store, isolated readers, secret, clock."""
        from duban.implement.intake.pipeline import Intake
        from duban.implement.intake.reader import WorkbookReader

        store = self.raw_store
        with WorkbookReader.for_campaign(self.bundle.campaign, workers) as reader:
            yield Intake(self.bundle, store, reader, self.secret, self.clock,
                         trusted_authserv=self.settings.trusted_authserv_ids)  # fmt: skip

    @contextmanager
    def bots(self) -> Iterator[tuple[BotSender, list[BotSpec]] | None]:
        """The group bots of ``DUBAN_BOTS`` behind one httpx client, or None when unset."""
        specs = self.settings.bot_specs()
        if not specs:
            yield None
            return
        import time

        import httpx

        from duban.adapters.bots.sender import BotSender

        with httpx.Client(timeout=10.0) as client:
            yield BotSender(client, self.clock, sleep=time.sleep), specs

    @contextmanager
    def bot_poster(self) -> Iterator[BotPoster | None]:
        """Escalations to the group bots, each post a ledger intent first (exactly once)."""
        with self.bots() as bots:
            if bots is None:
                yield None
                return
            from duban.sending.escalate import ledger_bot_poster

            sender, specs = bots
            yield ledger_bot_poster(sender, specs, self.clock, self.bundle, self.raw_store.put)
