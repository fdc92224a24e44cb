"""The remind flow (一键催办): a reminder now, outside the ladder, to chosen units that owe.

Orchestration only: the remind command (which units of the period still owe) with one Prefect
task per batch of units, and a table artifact of who was reminded. Not scheduled: the
coordinator triggers it. Each unit gets at most one such reminder a period and a day.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from duban.implement import commands
from duban.implement.remind import RemindRequest
from duban.runtime import Runtime
from duban.sending.dispatch import Outcome
from duban.settings import load_settings
from flows.parameters import (
    AsOf,
    BatchSize,
    By,
    CampaignFile,
    Deliverable,
    Period,
    Tag,
    Units,
    campaign_of,
    deliverable_of,
)
from tasks.remind import remind_task

BATCH_SIZE = commands.BATCH_SIZE


@flow(name="remind")
def remind(
    campaign_file: CampaignFile = None,
    deliverable: Deliverable = None,
    period: Period = None,
    units: Units = None,
    tag: Tag = None,
    by: By = "coordinator",
    batch_size: BatchSize = BATCH_SIZE,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Remind now the chosen units that still owe one deliverable period.

    The parameters, their checks and their Chinese descriptions (the Custom Run form) are in
    ``flows.parameters``; ``period`` defaults to the period most recently due.
    """
    settings = load_settings(now=as_of)
    path = campaign_of(settings, campaign_file)
    with Runtime(settings, path) as rt:
        chosen = deliverable_of(deliverable, rt.bundle)
        request = RemindRequest(chosen, period, tuple(units) if units else None, tag, by)
        result = commands.remind(
            rt, request, batch_size=batch_size,
            send_batch=lambda ids: remind_task(settings, str(path), ids, by),
        )  # fmt: skip
    outcomes: list[Outcome] = result.pop("outcomes")
    get_run_logger().info("remind: %s", result)
    rows = [
        {"key": o.key, "address": ", ".join(o.recipients), "status": o.status,
         "sent_now": o.sent_now}
        for o in outcomes
    ]  # fmt: skip
    if rows:
        create_table_artifact(
            key=f"remind-{chosen}-{result['period']}-{result['day']}".lower(),
            table=rows,
            description=f"Reminders for {chosen} {result['period']} on {result['day']}",
        )
    return result
