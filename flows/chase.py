"""The chase flow (催办): every working day at 09:00, the rung of the ladder due for each duty.

Scheduled daily (prefect.yaml): the flow itself knows the Chinese official calendar, so it
sends nothing on holidays and does run on adjusted working weekends, which cron cannot know.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from duban.settings import load_settings
from flows.parameters import AsOf, CampaignFile, DryRun, OneDeliverable, campaign_of
from tasks.chase import chase_task
from tasks.status import status_rows_task


@flow(name="chase")
def chase(
    campaign_file: CampaignFile = None,
    deliverable: OneDeliverable = None,
    dry_run: DryRun = False,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Remind, chase and escalate late units.

    The parameters, their checks and their Chinese descriptions (the Custom Run form) are in
    ``flows.parameters``.
    """
    settings = load_settings(now=as_of)
    path = str(campaign_of(settings, campaign_file))
    result = chase_task(settings, path, deliverable, dry_run)
    get_run_logger().info("chase: %s", result)
    rows = status_rows_task(settings, path)
    if rows:
        create_table_artifact(
            key="on-time-rates",
            table=rows,
            description="Completeness and timeliness per deliverable",
        )
    return result
