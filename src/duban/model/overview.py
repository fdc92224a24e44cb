"""Where every campaign stands at a moment, as plain data: per deliverable period (and per
unit tag, and per unit when asked) the counts and rates of ``status``, and the held items.

The CLI prints it as tables, the chase flow publishes it as an artifact, the board will show it:
one query, many views. ``campaign_matrix`` is the board's units × periods view of it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import UnknownIdError
from duban.ledger.schema import CampaignRow, IntakeFileRow, IntakeRow, UnitRow
from duban.ledger.store import HELD, held_count, instance_facts
from duban.model.matrix import Matrix, UnitInfo, build_matrix
from duban.model.status import InstanceFacts, State, by_deliverable, due_day, state_at, tally


def status_report(
    session: Session,
    as_of: datetime,
    *,
    campaign: str | None = None,
    deliverable: str | None = None,
    units: bool = False,
    tags: bool = False,
) -> dict[str, Any]:
    rows = list(session.scalars(select(CampaignRow).order_by(CampaignRow.id)))
    if campaign is not None:
        chosen = [row for row in rows if row.id == campaign]
        if not chosen:
            raise UnknownIdError(
                "campaign",
                campaign,
                [row.id for row in rows],
                where=" in the ledger",
                zh_where="台账中",
            )
        rows = chosen
    if deliverable is not None:
        declared = (d["id"] for row in rows for d in row.definition.get("deliverables", []))
        known = list(dict.fromkeys(declared))
        if deliverable not in known:
            raise UnknownIdError("deliverable", deliverable, known)
    campaigns = [_campaign_status(session, row, as_of, deliverable, units, tags) for row in rows]
    return {"as_of": as_of.isoformat(), "campaigns": campaigns}


def _campaign_status(
    session: Session,
    row: CampaignRow,
    as_of: datetime,
    deliverable: str | None,
    units: bool,
    tags: bool,
) -> dict[str, Any]:
    zone = ZoneInfo(row.definition["timezone"])
    facts = [
        f
        for f in instance_facts(session, row.id)
        if deliverable is None or f.deliverable_id == deliverable
    ]
    states = [(f, state_at(f, as_of, zone)) for f in facts]
    result: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "timezone": row.definition["timezone"],
        "deliverables": [
            t.as_dict(("deliverable", "period")) for t in tally(states, by_deliverable)
        ],
        "held": held_count(session, row.id),
    }
    if tags:
        result["tags"] = _by_tag(session, row.id, states)
    if units:
        names = dict(
            session.execute(select(UnitRow.id, UnitRow.name).where(UnitRow.campaign_id == row.id))
            .tuples()
            .all()
        )
        result["units"] = [
            {
                "unit": f.unit_id,
                "name": names.get(f.unit_id, ""),
                "deliverable": f.deliverable_id,
                "period": f.period,
                "due": due_day(f.effective_due, zone).isoformat(),
                "state": state.value,
            }
            for f, state in states
        ]
    return result


def _by_tag(
    session: Session, campaign_id: str, states: list[tuple[InstanceFacts, State]]
) -> list[dict[str, object]]:
    """Rates per deliverable and unit tag (镇区, 市级机关…): a duty counts for each tag."""
    tags_of = dict(
        session.execute(select(UnitRow.id, UnitRow.tags).where(UnitRow.campaign_id == campaign_id))
        .tuples()
        .all()
    )
    expanded = [
        (replace(facts, period=str(tag)), state)
        for facts, state in states
        for tag in tags_of.get(facts.unit_id, [])
    ]
    return [t.as_dict(("deliverable", "tag")) for t in tally(expanded, by_deliverable)]


def campaign_matrix(session: Session, campaign_id: str, as_of: datetime) -> Matrix:
    """The status matrix of one campaign (``model.matrix``): the facts ``status`` reads, the
    roster's names and tags, and which duties have a reply held for review."""
    row = session.get(CampaignRow, campaign_id)
    if row is None:
        known = list(session.scalars(select(CampaignRow.id)))
        raise UnknownIdError("campaign", campaign_id, known, where=" in the ledger",
                             zh_where="台账中")  # fmt: skip
    units = [
        UnitInfo(uid, name, tuple(str(t) for t in tags))
        for uid, name, tags in session.execute(
            select(UnitRow.id, UnitRow.name, UnitRow.tags).where(
                UnitRow.campaign_id == campaign_id, UnitRow.active.is_(True)
            )
        ).tuples()
    ]
    held = frozenset(
        instance_id
        for instance_id in session.scalars(
            select(IntakeFileRow.instance_id)
            .join(IntakeRow, IntakeRow.id == IntakeFileRow.intake_id)
            .where(
                IntakeRow.campaign_id == campaign_id,
                IntakeFileRow.outcome == HELD,
                IntakeFileRow.instance_id.is_not(None),
            )
        )
        if instance_id is not None
    )
    zone = ZoneInfo(row.definition["timezone"])
    return build_matrix(instance_facts(session, campaign_id), units, held, as_of, zone)
