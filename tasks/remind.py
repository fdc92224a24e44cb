"""Prefect task of the remind flow: one batch of units' on-demand reminders."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.implement import commands
from duban.sending.dispatch import Outcome
from duban.settings import Settings
from tasks.runtime import runtime


@task(name="remind", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def remind_task(
    settings: Settings, campaign_file: str, instance_ids: list[int], by: str
) -> list[Outcome]:
    """One batch of units over one SMTP connection; a unit reminded today gets nothing more."""
    with runtime(settings, campaign_file) as rt:
        return commands.remind_batch(rt, instance_ids, by)
