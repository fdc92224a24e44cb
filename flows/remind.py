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
from tasks.remind import remind_task

BATCH_SIZE = commands.BATCH_SIZE


@flow(name="remind")
def remind(
    campaign_file: str,
    deliverable: str,
    period: str | None = None,
    units: list[str] | None = None,
    tag: str | None = None,
    by: str = "coordinator",
    batch_size: int = BATCH_SIZE,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Remind now the chosen units that still owe one deliverable period.

    Parameters: ``campaign_file`` path of the campaign YAML; ``deliverable`` its id; ``period``
    e.g. ``2026-Q2`` (default: the period most recently due); ``units`` unit ids to limit the
    reminders to; ``tag`` only the units with this roster tag; ``by`` who asks (kept in the
    audit trail); ``batch_size`` units per task; ``as_of`` act as of this moment (simulations).
    """
    settings = load_settings(now=as_of)
    request = RemindRequest(deliverable, period, tuple(units) if units else None, tag, by)
    with Runtime(settings, campaign_file) as rt:
        result = commands.remind(
            rt, request, batch_size=batch_size,
            send_batch=lambda ids: remind_task(settings, campaign_file, ids, by),
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
            key=f"remind-{deliverable}-{result['period']}-{result['day']}".lower(),
            table=rows,
            description=f"Reminders for {deliverable} {result['period']} on {result['day']}",
        )
    return result
