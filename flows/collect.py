"""The collect flow: read replies until the source is empty, one task per batch.

Scheduled every 10 minutes (prefect.yaml); each run takes what has arrived since the last one.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from duban.implement import commands
from duban.runtime import Runtime
from duban.settings import load_settings
from flows.parameters import AsOf, BatchSize, CampaignFile, MaxBatches, campaign_of
from tasks.intake import collect_batch_task

BATCH_SIZE = commands.BATCH_SIZE
MAX_BATCHES = commands.MAX_BATCHES


@flow(name="collect")
def collect(
    campaign_file: CampaignFile = None,
    batch_size: BatchSize = BATCH_SIZE,
    max_batches: MaxBatches = MAX_BATCHES,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Collect what units sent: store, validate, record, answer.

    The parameters, their checks and their Chinese descriptions (the Custom Run form) are in
    ``flows.parameters``; after ``max_batches`` the next run continues.
    """
    settings = load_settings(now=as_of)
    path = str(campaign_of(settings, campaign_file))
    with Runtime(settings, path) as rt:
        totals = commands.collect(
            rt, batch_size=batch_size, max_batches=max_batches,
            batch=lambda limit: collect_batch_task(settings, path, limit),
        )  # fmt: skip
    get_run_logger().info("collected %s", totals)
    publish(totals)
    return totals


def publish(totals: dict[str, Any]) -> None:
    lines = ["| received | accepted | rejected | held | quarantined | duplicate | ignored |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    o = totals["outcomes"]
    names = ("accepted", "rejected", "held", "quarantined", "duplicate", "ignored")
    lines.append(f"| {totals['received']} | " + " | ".join(str(o.get(n, 0)) for n in names) + " |")
    create_markdown_artifact(
        key="collect-summary",
        markdown="\n".join(lines),
        description="What this collect run took in",
    )
