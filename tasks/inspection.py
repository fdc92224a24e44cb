"""Prefect tasks of the inspect flow: each step of a round, one transaction each.

The flow suspends twice (for a seed, for the approval) and runs again from the top when it
resumes; the steps are idempotent in the ledger (the commitment is found again, the same seed
shows the same draw, approving twice writes nothing), and the commitment task's result is
cached for the flow run, so a run resumed in another period keeps the round it started.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from duban.inspect import commands
from duban.inspect.drawing import RoundRequest, ensure_committed
from duban.runtime import Runtime
from duban.settings import Settings


def _per_flow_run(context: TaskRunContext, _parameters: dict[str, Any]) -> str:
    return f"inspect-commit-{context.task_run.flow_run_id}"


@task(name="inspect-commit", cache_key_fn=_per_flow_run, persist_result=True)
def commit_task(settings: Settings, campaign_file: str, request: RoundRequest) -> dict[str, Any]:
    with Runtime(settings, campaign_file) as rt, rt.session() as session:
        done = ensure_committed(session, rt.bundle, request, rt.clock)
    return {"label": done.label, "attempt": done.attempt, "commitment": done.commitment_id}


@task(name="inspect-draw", cache_policy=NO_CACHE)
def draw_task(
    settings: Settings, campaign_file: str, request: RoundRequest, seed: str
) -> dict[str, Any]:
    with Runtime(settings, campaign_file) as rt:
        done = commands.draw(rt, request, seed)
        names = {i.id: i.name for i in rt.bundle.inspectors}
        units = rt.bundle.units_by_id
    strata = {u: p.stratum for p in done.result.picks for u in p.units}
    rows = [
        {"stratum": strata[t.unit_id], "unit": t.unit_id, "name": units[t.unit_id].name,
         "team": "、".join(names.get(i, i) for i in t.inspectors)}
        for t in done.result.teams
    ]  # fmt: skip
    return {"label": done.label, "seed": done.result.seed, "result": done.result.hash,
            "rows": rows}  # fmt: skip


@task(name="inspect-approve", cache_policy=NO_CACHE)
def approve_task(settings: Settings, campaign_file: str, inspection: str, label: str,
                 by: str) -> bool:  # fmt: skip
    with Runtime(settings, campaign_file) as rt:
        _, before = commands.approve(rt, inspection, label, by)
    return before


@task(name="inspect-notify", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def notify_task(settings: Settings, campaign_file: str, inspection: str, label: str) -> int:
    """The approved round's notices over one SMTP connection; none is sent twice."""
    with Runtime(settings, campaign_file) as rt:
        return commands.notify(rt, inspection, label).sent
