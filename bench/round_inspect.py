"""The inspection stage of bench/round (督查, 双随机), after the self-check phase's.

``duban inspect draw`` on the synthetic campaign's quarterly inspection: the round committed
(the unit register of every unit in scope with its stratum, the inspector register, the
previous round, the parameters, hashed), drawn with a seed and recorded, as the coordinator
types it. Its floor is the draw alone, ``duban.inspect.draw.draw`` over the same inputs read
back from the commitment, in memory, in a process of its own: what the command adds is the
start-up, building the inputs from the campaign and the ledger, and recording.

Like bench/round_selfcheck.py, this module imports only the standard library at its top and
reaches bench/round (its importer) as ``__main__``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import __main__ as base  # bench/round, which imports this module

INSPECTION, SEED = "quarterly", "2026121512345"
INSPECT_AT = "2026-12-15T10:00"
STAGE_TITLES = ("inspect draw",)


def run(state: Any) -> None:
    args = ["inspect", "draw", str(state.campaign), INSPECTION, "--seed", SEED]
    run = base._command(state, "inspect draw", args, INSPECT_AT)
    floor = base._step(state.work, "floor-inspect", "floor-inspect")[0]
    if floor["units"] != floor["expected"]:
        raise base.RoundError(f"inspect draw drew {floor['units']} units, expected "
                              f"{floor['expected']} (4 a stratum, two strata)")  # fmt: skip
    if floor["recomputed"] != floor["recorded"]:
        raise base.RoundError("inspect draw recorded a result the draw does not recompute")
    scope = floor["scope"]
    row = base.Row("inspect draw", "units", scope, run.seconds, run.peak_mb,
                   scope / floor["seconds"])  # fmt: skip
    row.floor_note = "draw() over the committed registers, in memory"
    row.notes.append(
        f"{floor['units']} units drawn of {scope} in scope, teams from {floor['inspectors']} "
        f"inspectors; the floor's draw {floor['seconds'] * 1000:.1f} ms"
    )
    base._add(state, row, state.figures.get("check", {}))


def _step_floor(args: argparse.Namespace) -> int:
    """Read the round's commitment and draw back, time the draw over the same inputs."""
    from sqlalchemy import select

    from duban.inspect.draw import draw
    from duban.inspect.rounds import inputs_of
    from duban.ledger.db import session_scope
    from duban.ledger.schema import InspectionCommitmentRow, InspectionDrawRow, InspectionRoundRow

    engine = base._engine(base._config(args))
    with session_scope(engine) as session:
        round_row = session.scalars(select(InspectionRoundRow)).one()
        commitment = session.scalars(select(InspectionCommitmentRow)).one()
        recorded = session.scalars(select(InspectionDrawRow)).one()
        inputs = inputs_of(round_row, commitment)
        digest = recorded.result_digest
    engine.dispose()
    started = time.perf_counter()
    result = draw(inputs, SEED)
    seconds = time.perf_counter() - started
    return base._write(args, {
        "seconds": seconds, "units": len(result.units), "expected": 8,
        "scope": len(inputs.units), "inspectors": len(inputs.inspectors),
        "recorded": digest, "recomputed": result.hash,
    })  # fmt: skip


STEPS = {"floor-inspect": _step_floor}
