"""Prefect task of the collect flow: one task per batch of received items."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.implement import commands
from duban.settings import Settings
from tasks.runtime import runtime


@task(name="collect-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def collect_batch_task(settings: Settings, campaign_file: str, limit: int) -> dict[str, Any]:
    """Fetch up to ``limit`` items, record, decide and answer them, then mark them done."""
    with runtime(settings, campaign_file) as rt:
        return commands.collect_one(rt, limit)
