"""The group-bot adapter for the chase task: an httpx client, the rate-limited sender, and a
ledger intent per post so that a rerun posts nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from duban.adapters.bots import BotSender, BotSpec
from duban.clock import Clock
from duban.implement.chase import BotPoster
from duban.model.loader import CampaignBundle
from duban.settings import Settings


@contextmanager
def bot_poster(
    settings: Settings, clock: Clock, bundle: CampaignBundle
) -> Iterator[BotPoster | None]:
    specs = settings.bot_specs()
    if not specs:
        yield None
        return
    from duban.sending.escalate import ledger_bot_poster

    with bot_sender(settings, clock) as (sender, specs):
        assert sender is not None
        yield ledger_bot_poster(sender, specs, clock, bundle)


@contextmanager
def bot_sender(
    settings: Settings, clock: Clock
) -> Iterator[tuple[BotSender | None, list[BotSpec]]]:
    """The sender and the specs of DUBAN_BOTS, or (None, []) when no bot is configured."""
    specs = settings.bot_specs()
    if not specs:
        yield None, []
        return
    import time

    import httpx

    with httpx.Client(timeout=10.0) as client:
        yield BotSender(client, clock, sleep=time.sleep), specs
