"""The demo's quarterly inspection (督查, 双随机): the coordinator commits the round one morning,
draws it an hour later with a seed announced meanwhile (a lottery number, say), one inspector
stands down from a unit (回避), the coordinator approves the teams and writes the page to post,
each as the `duban inspect` commands do it, on the simulated clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from duban.inspect import commands
from duban.inspect.draw import Draw
from duban.inspect.drawing import RoundRequest
from duban.runtime import Runtime
from duban.settings import load_settings

INSPECTION = "quarterly"
SEED = "2026101907328"
"""The seed as a coordinator would type it: here a made-up lottery result of the day."""
RECUSAL = "近亲属在该单位任职"


@dataclass(frozen=True)
class Inspected:
    steps: list[dict[str, Any]]
    result: Draw
    page: Path
    recused: tuple[str, str]


def inspect_quarter(campaign_path: Path, morning: datetime) -> Inspected:
    request = RoundRequest(INSPECTION, actor="coordinator")
    with _runtime(campaign_path, morning) as rt:
        committed = commands.commit(rt, request)
    with _runtime(campaign_path, morning + timedelta(hours=1)) as rt:
        drawn = commands.draw(rt, request, SEED)
    first = drawn.result.teams[0]
    recused = (first.unit_id, first.inspectors[0])
    with _runtime(campaign_path, morning + timedelta(hours=1, minutes=30)) as rt:
        result = commands.recuse(rt, INSPECTION, drawn.label, *recused, note=RECUSAL,
                                 actor="coordinator")  # fmt: skip
    with _runtime(campaign_path, morning + timedelta(hours=2)) as rt:
        commands.approve(rt, INSPECTION, drawn.label, "coordinator")
        page = commands.publication(rt, INSPECTION, drawn.label).path
    label = f"{INSPECTION} {drawn.label}"
    steps = [
        _step(morning, "inspect commit", label, 0, {"attempt": committed.attempt}),
        _step(morning + timedelta(hours=1), "inspect draw", label, len(result.units),
              {"strata": len(result.picks)}),
        _step(morning + timedelta(hours=1, minutes=30), "inspect recuse", label, 1,
              {"replaced": 1}),
        _step(morning + timedelta(hours=2), "inspect approve + publish", label,
              len(result.units), {"teams": len(result.teams)}),
    ]  # fmt: skip
    return Inspected(steps, result, page, recused)


def draw_table(inspected: Inspected, names: dict[str, str]) -> Table:
    result = inspected.result
    table = Table(title=f"quarterly inspection drawn (双随机): seed {result.seed}")
    for heading in ("stratum", "unit", "team", "avoidance"):
        table.add_column(heading)
    strata = {u: p.stratum for p in result.picks for u in p.units}
    skipped: dict[str, list[str]] = {}
    for r in result.recusals:
        skipped.setdefault(r.unit_id, []).append(f"{r.inspector_id} {r.said('zh-CN')}")
    for team in result.teams:
        table.add_row(
            strata[team.unit_id],
            f"{team.unit_id} {names.get(team.unit_id, '')}",
            "、".join(team.inspectors),
            "；".join(skipped.get(team.unit_id, [])),
        )
    return table


def _runtime(campaign_path: Path, at: datetime) -> Runtime:
    return Runtime(load_settings(now=at.isoformat()), campaign_path)


def _step(at: datetime, step: str, period: str, count: int, by: dict[str, int]) -> dict[str, Any]:
    return {"at": at, "step": step, "period": period, "count": count, "sent_now": 0,
            "by_status": by}  # fmt: skip
