"""Prefect task of the mobilize flow: one batch of units' notices (not one task per unit)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.mobilize import commands
from duban.sending.dispatch import Outcome
from duban.settings import Settings
from tasks.runtime import runtime


@task(name="send-notices", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def send_notices_task(
    settings: Settings, campaign_file: str, instance_ids: list[int]
) -> list[Outcome]:
    """One batch of units over one SMTP connection."""
    with runtime(settings, campaign_file) as rt:
        return commands.send(rt, instance_ids)
