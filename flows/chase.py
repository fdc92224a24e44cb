"""The chase flow (催办): every working day at 09:00, the rung of the ladder due for each duty.

Scheduled daily (prefect.yaml): the flow itself knows the Chinese official calendar, so it
sends nothing on holidays and does run on adjusted working weekends, which cron cannot know.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from duban.settings import load_settings
from tasks.chase import chase_task
from tasks.status import status_rows_task


@flow(name="chase")
def chase(
    campaign_file: str,
    deliverable: str | None = None,
    dry_run: bool = False,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Remind, chase and escalate late units.

    Parameters: ``campaign_file`` path of the campaign YAML; ``deliverable`` limit to one
    deliverable; ``dry_run`` write the messages to the outbox instead of sending them;
    ``as_of`` act as of this moment (simulations).
    """
    settings = load_settings(now=as_of)
    result = chase_task(settings, campaign_file, deliverable, dry_run)
    get_run_logger().info("chase: %s", result)
    rows = status_rows_task(settings, campaign_file)
    if rows:
        create_table_artifact(
            key="on-time-rates",
            table=rows,
            description="Completeness and timeliness per deliverable",
        )
    return result
