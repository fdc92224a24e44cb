"""The inspect flow: a round of inspection drawn at random (双随机), approved by a person.

Named ``inspection``, not ``inspect``: Prefect puts an entrypoint's folder on ``sys.path``,
where a module named ``inspect`` hides the standard library's from everything the worker starts
(the intake's reader processes failed on it).

Orchestration only: commit the round (before any seed exists), wait for the seed when the run
was started without one, draw, show the draw as a table artifact, wait for the coordinator's
approval before anyone is told, then send the teams their units and scoresheets (and, if
announced, the units their visit window). Both waits suspend the run (durable: the process
exits and the run waits on the server for days if need be, where a pause would fail after an
hour) with a small input form of plain fields; the run starts again from the top when the input
arrives, and every step finds in the ledger what it did before.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from duban.inspect.drawing import RoundRequest
from duban.inspect.inputs import Overrides
from duban.settings import load_settings
from flows.parameters import (
    Announced,
    AsOf,
    CampaignFile,
    Inspection,
    RoundLabel,
    SampleSize,
    SampleTags,
    Seed,
    campaign_of,
)
from tasks.inspection import approve_task, commit_task, draw_task, notify_task


class SeedInput(RunInput):
    """The seed, typed when the run resumes (a public number announced after the commitment)."""

    seed: str = Field(min_length=1, description="随机种子（seed），如当期彩票开奖号码")


class Approval(RunInput):
    """The coordinator's decision on the draw shown in the run's artifact."""

    approve: bool = Field(description="审定通过（approve）：勾选则确定检查组并可通知")
    by: str = Field(default="coordinator", min_length=1, description="审定人（by），记入留痕")
    note: str = Field(default="", description="意见（note）")


def pause_key(step: str, label: str) -> str:
    """A suspension's key: one per step and round, so a run resumed for the approval does not
    stop again for the seed. Prefect allows lower-case letters, digits and dashes only, and a
    round's label may be 2026-Q2 or Chinese: its hash stands in."""
    return f"{step}-{hashlib.sha256(label.encode('utf-8')).hexdigest()[:16]}"


@flow(name="inspect", persist_result=True)
def inspect_flow(
    campaign_file: CampaignFile = None,
    inspection: Inspection = None,
    round_label: RoundLabel = None,
    sample_size: SampleSize = None,
    tags: SampleTags = None,
    seed: Seed = None,
    announced: Announced = "file",
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Draw a round of ``inspection`` and wait for its approval (see ``flows.parameters``)."""
    settings = load_settings(now=as_of)
    path = str(campaign_of(settings, campaign_file))
    request = RoundRequest(
        inspection or "", round_label, Overrides(sample_size, tuple(tags or ())),
        None if announced == "file" else announced == "announced",
    )  # fmt: skip
    committed = commit_task(settings, path, request)
    label = committed["label"]
    request = RoundRequest(request.inspection_id, label, request.overrides, request.announced)
    if not seed:
        get_run_logger().info("round %s committed: %s", label, committed["commitment"])
        seed = suspend_flow_run(wait_for_input=SeedInput, key=pause_key("seed", label)).seed
    drawn = draw_task(settings, path, request, seed)
    create_table_artifact(
        key=f"draw-{request.inspection_id}-{label}".lower(), table=drawn["rows"],
        description=f"{request.inspection_id} {label}: seed {seed}, result {drawn['result']}",
    )  # fmt: skip
    decision = suspend_flow_run(wait_for_input=Approval, key=pause_key("approve", label))
    if not decision.approve:
        return {"status": "not approved", "label": label, "note": decision.note, **drawn}
    approve_task(settings, path, request.inspection_id, label, decision.by)
    sent = notify_task(settings, path, request.inspection_id, label)
    return {"status": "notified", "label": label, "sent": sent, **drawn}
