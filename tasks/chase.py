"""Prefect task of the chase flow: one run sends every rung due now over one SMTP connection."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.implement import commands
from duban.runtime import Runtime
from duban.settings import Settings


@task(name="chase", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def chase_task(
    settings: Settings, campaign_file: str, deliverable: str | None, dry_run: bool
) -> dict[str, Any]:
    with Runtime(settings, campaign_file) as rt:
        return commands.chase(rt, deliverable=deliverable, dry_run=dry_run)
