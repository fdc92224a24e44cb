"""The mobilize flow: every assigned unit receives its notice and its own template.

Orchestration only: plan (which duties, approved or not), then either a preview into the
outbox (dry run, or approval still pending) or the sending, one task per batch of units.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from duban.mobilize.send import NoticeRequest
from duban.sending.batching import batches
from duban.sending.dispatch import Outcome
from duban.settings import load_settings
from tasks.notices import plan_notices_task, preview_notices_task, send_notices_task

BATCH_SIZE = 200


@flow(name="mobilize")
def mobilize(
    campaign_file: str,
    deliverable: str,
    period: str | None = None,
    units: list[str] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Send (or, with ``dry_run``, preview) the notices of one deliverable period.

    Parameters: ``campaign_file`` path of the campaign YAML; ``deliverable`` its id;
    ``period`` e.g. ``2026-Q2`` (default: the next period not yet due); ``units`` unit ids to
    limit the send to; ``dry_run`` write .eml files to the outbox instead of sending;
    ``as_of`` act as of this moment (simulations; default the clock of the settings).
    """
    settings = load_settings(now=as_of)
    logger = get_run_logger()
    request = NoticeRequest(deliverable, period, tuple(units) if units else None)
    plan = plan_notices_task(settings, campaign_file, request)
    if dry_run or not plan.may_send:
        folder = preview_notices_task(settings, campaign_file, plan)
        state = "previewed" if dry_run else "awaiting-approval"
        logger.info("%s: %d notices written to %s", state, len(plan.instance_ids), folder)
        return {"status": state, "count": len(plan.instance_ids), "outbox": folder,
                "period": plan.period, "digest": plan.digest}  # fmt: skip
    outcomes: list[Outcome] = []
    for batch in batches(plan.instance_ids, batch_size):
        outcomes.extend(send_notices_task(settings, campaign_file, list(batch)))
    publish(outcomes, plan.deliverable_id, plan.period)
    return summarise(outcomes, plan.period)


def summarise(outcomes: list[Outcome], period: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    sent_now = sum(o.sent_now for o in outcomes)
    return {"status": "sent", "period": period, "count": len(outcomes), "sent_now": sent_now,
            "by_status": counts}  # fmt: skip


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
