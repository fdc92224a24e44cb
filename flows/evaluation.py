"""The evaluate flow: the year's evaluation (评议考核), fixed by a person.

Orchestration only: compute the evaluation from the ledger as of its close (a preliminary
result; computing again with nothing changed records nothing), publish it (each unit its score
sheet and appeal form, once; the appeal window opens), show the ranking as a table artifact,
then wait for the coordinator to freeze it once the appeals are decided (``duban
evaluate appeal`` / ``decide``). The wait suspends the run (durable: the process exits and the
run waits on the server for as long as the appeal window takes, where a pause would fail after
an hour) with a small input form; when it resumes the run starts again from the top, the
computation finds its version in the ledger, and the freeze is recorded (refused, and the run
failed with the reason, while an appeal is open); the final result is then published (each
unit its final sheet and the bulletin, the distribution list the bulletin). Publishing is
exactly once by message, so the run starting again from the top sends nothing twice: only a
version corrected by an upheld appeal meanwhile goes, to the units whose sheet changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from duban.settings import load_settings
from flows.parameters import (
    AsOf,
    CampaignFile,
    Closes,
    DrawSeed,
    EvaluationLabel,
    PublishResults,
    campaign_of,
)
from tasks.evaluation import compute_task, freeze_task, publish_task


class FreezeInput(RunInput):
    """The coordinator's decision once the appeal window has closed."""

    freeze: bool = Field(description="定稿（freeze）：勾选则考核结果定稿，不再重新计算")
    by: str = Field(default="coordinator", min_length=1, description="定稿人（by），记入留痕")


def pause_key(label: str) -> str:
    """The suspension's key: lower-case letters, digits and dashes only (a label may be
    Chinese), so the label's hash stands in."""
    return f"freeze-{hashlib.sha256(label.encode('utf-8')).hexdigest()[:16]}"


@flow(name="evaluate", persist_result=True)
def evaluate_flow(
    campaign_file: CampaignFile = None,
    label: EvaluationLabel = None,
    closes: Closes = None,
    seed: DrawSeed = None,
    publish: PublishResults = True,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Compute the evaluation, show the ranking, wait to freeze it (see ``flows.parameters``)."""
    settings = load_settings(now=as_of)
    path = str(campaign_of(settings, campaign_file))
    computed = compute_task(settings, path, label, closes, seed)
    name = computed["label"]
    published = publish_task(settings, path, name) if publish else None
    create_table_artifact(
        key=f"ranking-{pause_key(name)}", table=computed["rows"],
        description=f"{name}: version {computed['version']}, result {computed['result']}",
    )  # fmt: skip
    decision = suspend_flow_run(wait_for_input=FreezeInput, key=pause_key(name))
    if not decision.freeze:
        return {"status": "not frozen", "published": published, **computed}
    version = freeze_task(settings, path, name, decision.by)
    final = publish_task(settings, path, name) if publish else None
    return {"status": "frozen", "frozen_version": version, "published": published,
            "final": final, **computed}  # fmt: skip
