"""Prefect task: the on-time rates of a campaign, as rows for a table artifact."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.model.overview import status_report
from duban.runtime import Runtime
from duban.settings import Settings


@task(name="status", cache_policy=NO_CACHE)
def status_rows_task(settings: Settings, campaign_file: str) -> list[dict[str, Any]]:
    with Runtime(settings, campaign_file) as rt, rt.session() as session:
        report = status_report(session, rt.clock.now(), campaign=rt.bundle.campaign.id)
    return [row for campaign in report["campaigns"] for row in campaign["deliverables"]]
