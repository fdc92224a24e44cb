"""A round's draw inputs: built from the campaign and the ledger when committed, and read back
from the commitment as recorded when drawn, approved or verified.

A commitment keeps the registers as their canonical text: the draw is made from that text, not
from the campaign file as it stands when the seed arrives (a roster edited, or an item gone
overdue, between the commitment and a lottery days later must not change who is drawn), and
anyone can recompute it from the ledger alone.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from duban.inspect.commitment import DrawInputs, Parameters
from duban.inspect.registers import Assignment, Candidate
from duban.ledger.store import instance_facts
from duban.model.inspections import InspectionSpec, scope_units, stratum_of
from duban.model.inspectors import Inspector
from duban.model.loader import CampaignBundle
from duban.model.status import State, state_at
from duban.selfcheck.ledger import list_items
from duban.selfcheck.states import OPEN_STATES

LATE_STATES = frozenset({State.LATE, State.OVERDUE, State.REJECTED})
"""A duty sent late, still owed past its due day, or refused and not yet made good."""


@dataclass(frozen=True)
class Overrides:
    """What the coordinator may change for one round: the sample size per stratum, and a
    narrower scope (only units carrying one of these tags)."""

    count: int | None = None
    tags: tuple[str, ...] = ()


def fresh_inputs(
    session: Session,
    bundle: CampaignBundle,
    spec: InspectionSpec,
    *,
    label: str,
    attempt: int,
    previous: frozenset[Assignment],
    overrides: Overrides,
    as_of: datetime,
) -> DrawInputs:
    """The inputs as the campaign and the ledger give them now (for a new commitment)."""
    weights = unit_weights(session, bundle, spec, as_of)
    return DrawInputs(
        inspection=spec.id,
        round=label,
        attempt=attempt,
        units=candidates(bundle, spec, weights, overrides.tags),
        inspectors=bundle.inspectors,
        previous=previous,
        parameters=parameters(spec, overrides.count),
    )


def candidates(
    bundle: CampaignBundle,
    spec: InspectionSpec,
    weights: Mapping[str, float],
    tags: Collection[str] = (),
) -> tuple[Candidate, ...]:
    """The units in scope (narrowed to ``tags`` when given), each with its stratum and weight."""
    chosen = []
    for unit in scope_units(spec, bundle.units):
        stratum = stratum_of(spec, unit)
        if stratum is None or (tags and not set(tags).intersection(unit.tags)):
            continue
        chosen.append(Candidate(unit.id, stratum, weights.get(unit.id, 1.0)))
    return tuple(chosen)


def parameters(spec: InspectionSpec, count: int | None = None) -> Parameters:
    sample = spec.sample
    if count is not None:
        size: dict[str, Any] = {"count": count}
    elif sample.count is not None:
        size = {"count": sample.count}
    else:
        size = {"share": Decimal(str(sample.share))}
    return Parameters(
        **size,
        minimum=sample.minimum,
        weighted=not sample.weights.uniform,
        team_size=spec.team_size,
    )


def unit_weights(
    session: Session, bundle: CampaignBundle, spec: InspectionSpec, as_of: datetime
) -> dict[str, float]:
    """Each unit's weight in a weighted draw: the factor for an overdue rectification item
    times the factor for a duty late, owed past its day or refused (absent: 1)."""
    factors = spec.sample.weights
    if factors.uniform:
        return {}
    campaign = bundle.campaign
    day = as_of.astimezone(campaign.zone).date()
    overdue = {
        item.unit_id
        for item in list_items(
            session, campaign.id, states=OPEN_STATES, overdue=(day, bundle.calendar)
        )
    }
    late = {
        facts.unit_id
        for facts in instance_facts(session, campaign.id)
        if state_at(facts, as_of, campaign.zone) in LATE_STATES
    }
    return {
        unit_id: (factors.overdue_items if unit_id in overdue else 1.0)
        * (factors.late_submissions if unit_id in late else 1.0)
        for unit_id in overdue | late
    }


def stored_inputs(
    inspection_id: str,
    label: str,
    attempt: int,
    parameters_json: Mapping[str, Any],
    unit_register: str,
    inspector_register: str,
    previous: Iterable[Any],
) -> DrawInputs:
    """The inputs a commitment recorded, read back from their canonical text."""
    return DrawInputs(
        inspection=inspection_id,
        round=label,
        attempt=attempt,
        units=tuple(Candidate(u, s, float(w)) for u, s, w in _rows(unit_register)),
        inspectors=tuple(
            Inspector(i, name, unit, tuple(tags), frozenset(conflicts))
            for i, name, unit, tags, conflicts in _rows(inspector_register)
        ),
        previous=frozenset((str(u), str(i)) for u, i in previous),
        parameters=parameters_of(parameters_json),
    )


def parameters_of(stated: Mapping[str, Any]) -> Parameters:
    share = stated.get("share")
    return Parameters(
        count=stated.get("count"),
        share=None if share is None else Decimal(str(share)),
        minimum=int(stated.get("minimum", 0)),
        weighted=bool(stated.get("weighted", False)),
        team_size=int(stated.get("team_size", 2)),
        load_cap=bool(stated.get("load_cap", False)),
    )


def _rows(register: str) -> list[list[Any]]:
    """The rows of a canonical register (its first line names the fields)."""
    return [json.loads(line) for line in register.splitlines()[1:] if line]
