"""Prefect task: the on-time rates of a campaign, as rows for a table artifact."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.cli.tables import status_report
from duban.settings import Settings

from .context import opened


@task(name="status", cache_policy=NO_CACHE)
def status_rows_task(settings: Settings, campaign_file: str) -> list[dict[str, Any]]:
    with opened(settings, campaign_file) as o:
        report = status_report(o.session, o.clock.now(), campaign=o.bundle.campaign.id)
    return [row for campaign in report["campaigns"] for row in campaign["deliverables"]]
