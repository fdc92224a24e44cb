"""The group-bot adapter for the chase task: an httpx client, the rate-limited sender, and a
ledger intent per post so that a rerun posts nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from duban.chase import BotPoster
from duban.clock import Clock
from duban.loader import CampaignBundle
from duban.settings import Settings


@contextmanager
def bot_poster(
    settings: Settings, clock: Clock, bundle: CampaignBundle
) -> Iterator[BotPoster | None]:
    specs = settings.bot_specs()
    if not specs:
        yield None
        return
    import time

    import httpx

    from duban.bots import BotSender
    from duban.escalate import ledger_bot_poster

    with httpx.Client(timeout=10.0) as client:
        sender = BotSender(client, clock, sleep=time.sleep)
        yield ledger_bot_poster(sender, specs, clock, bundle)
