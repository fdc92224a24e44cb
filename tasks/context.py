"""What every task opens from the settings: the campaign, the ledger, the templates.

Tasks receive the settings object built once at the start of the flow run, and open their own
connections from it, because a task may run in another process than the flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy.orm import Session

from duban.adapters.render import environment
from duban.clock import Clock
from duban.ledger.db import ensure_ready, make_engine, session_scope
from duban.model.loader import CampaignBundle, load_campaign
from duban.settings import Settings


@dataclass
class Opened:
    bundle: CampaignBundle
    session: Session
    clock: Clock
    env: Environment


@contextmanager
def opened(settings: Settings, campaign_file: str) -> Iterator[Opened]:
    bundle = load_campaign(campaign_file)
    engine = make_engine(settings.ledger_url)
    try:
        ensure_ready(engine)
        with session_scope(engine) as session:
            yield Opened(bundle, session, settings.clock(), environment(settings.templates))
    finally:
        engine.dispose()
