"""The evaluation stage of bench/round (评议考核), after the inspection's.

``duban evaluate compute`` on the synthetic campaign as the coordinator types it: every unit's
figures read from the ledger as of the close (its duties, the inspection round, its items),
scored, ranked within groups, explained line by line, and recorded with the inputs kept and
hashed. Its floor is the computation alone, ``duban.evaluate.evaluation.evaluate`` over the
same figures read back from the recorded inputs, in memory, in a process of its own: what the
command adds is the start-up, reading the ledger and recording. The stage checks that every
grouped unit was scored and that the floor's result has the recorded hash.

Like bench/round_inspect.py, this module imports only the standard library at its top and
reaches bench/round (its importer) as ``__main__``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import __main__ as base  # bench/round, which imports this module

EVALUATE_AT = "2026-12-31T18:00"
STAGE_TITLES = ("evaluate compute",)


def run(state: Any) -> None:
    args = ["evaluate", "compute", str(state.campaign), "--label", "2026"]
    run = base._command(state, "evaluate compute", args, EVALUATE_AT)
    floor = base._step(state.work, "floor-evaluate", "floor-evaluate")[0]
    if floor["scored"] != floor["grouped"]:
        raise base.RoundError(f"evaluate compute scored {floor['scored']} units, expected "
                              f"{floor['grouped']} (every unit of a ranking group)")  # fmt: skip
    if floor["recomputed"] != floor["recorded"]:
        raise base.RoundError("evaluate compute recorded a result its inputs do not give")
    units = floor["scored"]
    row = base.Row("evaluate compute", "units", units, run.seconds, run.peak_mb,
                   units / floor["seconds"])  # fmt: skip
    row.floor_note = "evaluate() over the recorded figures, in memory"
    row.notes.append(
        f"{units} units scored and explained ({floor['lines']} sheet lines); the floor's "
        f"computation {floor['seconds']:.2f} s"
    )
    base._add(state, row, state.figures.get("check", {}))


def _step_floor(args: argparse.Namespace) -> int:
    """Read the recorded evaluation back, time the computation over its own inputs."""
    from sqlalchemy import func, select

    from duban.evaluate.evaluation import evaluate
    from duban.evaluate.scores import unit_groups
    from duban.evaluate.snapshot import figures_from_json, result_json, sha256
    from duban.ledger.db import session_scope
    from duban.ledger.schema import EvaluationRow, EvaluationScoreRow
    from duban.model.loader import load_campaign

    config = base._config(args)
    bundle = load_campaign(config["campaign"])
    engine = base._engine(config)
    with session_scope(engine) as session:
        row = session.scalars(select(EvaluationRow)).one()
        scored = session.scalar(select(func.count()).select_from(EvaluationScoreRow))
        inputs, seed, digest = row.inputs, row.seed, row.result_digest
    engine.dispose()
    scoring = bundle.campaign.scoring
    groups = unit_groups(scoring, bundle.units_by_id.values())
    started = time.perf_counter()
    result = evaluate(scoring, groups, figures_from_json(inputs), seed)
    seconds = time.perf_counter() - started
    return base._write(args, {
        "seconds": seconds, "scored": scored, "grouped": len(groups),
        "lines": sum(len(s.lines) for s in result.sheets),
        "recorded": digest, "recomputed": sha256(result_json(result)),
    })  # fmt: skip


STEPS = {"floor-evaluate": _step_floor}
