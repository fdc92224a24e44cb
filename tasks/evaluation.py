"""Prefect tasks of the evaluate flow: compute, publish, freeze; one transaction each (publish
one batch of messages for every unit, never a task per unit).

The flow suspends once and runs again from the top when it resumes; computing again with
nothing changed records nothing, and freezing twice writes nothing.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.evaluate import commands
from duban.runtime import Runtime
from duban.settings import Settings


@task(name="evaluate-compute", cache_policy=NO_CACHE)
def compute_task(
    settings: Settings, campaign_file: str, label: str | None, closes: str | None,
    seed: str | None,
) -> dict[str, Any]:  # fmt: skip
    with Runtime(settings, campaign_file) as rt:
        done = commands.compute(rt, label, closes_at=commands.close_of(rt, closes), seed=seed)
        names = {u.id: u.name for u in rt.bundle.units}
        titles = {g.id: g.title for g in rt.bundle.campaign.scoring.ranking_groups}
    rows = [
        {"group": titles.get(p.group_id, p.group_id), "rank": p.rank, "unit": p.unit_id,
         "name": names.get(p.unit_id, p.unit_id), "total": str(p.total),
         "note": "问责" if p.flagged else "免于问责" if p.exempt else "红榜" if p.commended
         else ""}
        for p in done.evaluation.placings
    ]  # fmt: skip
    row = done.row
    return {"label": row.label, "version": row.version, "new": done.new,
            "result": row.result_digest, "rows": rows}  # fmt: skip


@task(name="evaluate-freeze", cache_policy=NO_CACHE)
def freeze_task(settings: Settings, campaign_file: str, label: str, by: str) -> int:
    with Runtime(settings, campaign_file) as rt:
        version, _ = commands.freeze(rt, label, by)
    return version


@task(name="evaluate-publish", cache_policy=NO_CACHE)
def publish_task(settings: Settings, campaign_file: str, label: str) -> dict[str, Any]:
    with Runtime(settings, campaign_file) as rt:
        done = commands.publish(rt, label)
    closes = None if done.appeals_close is None else done.appeals_close.isoformat()
    return {"version": done.version, "final": done.final, "units": done.units,
            "sent": done.sent, "unsent": len(done.unsent), "appeals_close": closes}  # fmt: skip
