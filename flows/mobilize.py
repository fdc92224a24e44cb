"""The mobilize flow: every assigned unit receives its notice and its own template.

Orchestration only: the mobilize command (plan; a preview when it is a dry run or awaits
approval; otherwise the sending) with one Prefect task per batch of units, and a table artifact
of who was sent what.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from duban.mobilize import commands
from duban.mobilize.send import NoticeRequest
from duban.runtime import Runtime
from duban.sending.dispatch import Outcome
from duban.settings import load_settings
from flows.parameters import (
    AsOf,
    BatchSize,
    CampaignFile,
    Deliverable,
    DryRun,
    Period,
    Units,
    campaign_of,
    deliverable_of,
)
from tasks.notices import send_notices_task

BATCH_SIZE = commands.BATCH_SIZE


@flow(name="mobilize")
def mobilize(
    campaign_file: CampaignFile = None,
    deliverable: Deliverable = None,
    period: Period = None,
    units: Units = None,
    dry_run: DryRun = False,
    batch_size: BatchSize = BATCH_SIZE,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Send (or, with ``dry_run``, preview) the notices of one deliverable period.

    The parameters, their checks and their Chinese descriptions (the Custom Run form) are in
    ``flows.parameters``; ``period`` defaults to the next period not yet due.
    """
    settings = load_settings(now=as_of)
    path = campaign_of(settings, campaign_file)
    with Runtime(settings, path) as rt:
        chosen = deliverable_of(deliverable, rt.bundle)
        request = NoticeRequest(chosen, period, tuple(units) if units else None)
        result = commands.mobilize(
            rt, request, dry_run=dry_run, batch_size=batch_size,
            send_batch=lambda ids: send_notices_task(settings, str(path), ids),
        )  # fmt: skip
    outcomes: list[Outcome] = result.pop("outcomes")
    if result["status"] == "sent":
        publish(outcomes, chosen, result["period"])
    else:
        get_run_logger().info("%s: %d notices written to %s", result["status"], result["count"],
                              result["outbox"])  # fmt: skip
    return result


def publish(outcomes: list[Outcome], deliverable: str, period: str) -> None:
    rows = [
        {"unit": o.key.rsplit(":", 1)[-1], "address": ", ".join(o.recipients),
         "message_id": o.message_id or "", "status": o.status,
         "refused": ", ".join(o.refused) or ""}
        for o in outcomes
    ]  # fmt: skip
    create_table_artifact(
        key=f"notices-{deliverable}-{period}".lower(),
        table=rows,
        description=f"Notices for {deliverable} {period}: one row per unit",
    )
