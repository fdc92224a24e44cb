"""The key tasks of a ``status`` report (重点工作推进情况): per chain deliverable, for its latest
period due, where each key task's lead and partners stand.

``status`` reads the ledger alone (it names no campaign file), so the chains come from the
definition registered with the campaign (``CampaignRow.definition``) and the names from its
registered units. A campaign without a chain costs one query; one with chains, the few of
``instance_facts`` and one for the names, whatever the number of units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.implement.chain_status import chain_standing, latest_chain_period
from duban.implement.parts import chains
from duban.ledger.schema import CampaignRow, UnitRow
from duban.ledger.store import instance_facts
from duban.model.campaign import Campaign


def key_task_status(
    session: Session, campaign: Campaign, as_of: datetime, deliverable: str | None = None
) -> list[dict[str, Any]]:
    """Per chain with a period due by ``as_of``: the lead's deliverable, its title, the period
    and each key task (``TaskStanding.as_dict``)."""
    found = chains(campaign, deliverable)
    if not found:
        return []
    facts = instance_facts(session, campaign.id)
    names = dict(
        session.execute(select(UnitRow.id, UnitRow.name).where(UnitRow.campaign_id == campaign.id))
        .tuples()
        .all()
    )
    result = []
    for chain in found:
        period = latest_chain_period(chain, facts, as_of)
        if period is None:
            continue
        tasks = chain_standing(campaign, chain, period, facts, names, as_of)
        result.append({
            "deliverable": chain.lead.id, "parts": chain.parts.id, "title": chain.lead.title,
            "period": period, "tasks": [t.as_dict(campaign.zone) for t in tasks],
        })  # fmt: skip
    return result


def add_key_tasks(
    session: Session, report: dict[str, Any], as_of: datetime, deliverable: str | None = None
) -> None:
    """Each campaign of a ``status_report`` with a chain gets its key tasks under
    ``key_tasks``; any other campaign (or one whose registered definition no longer reads as
    a campaign: ``duban init`` registers it again) is left as it was."""
    wanted = [c["id"] for c in report["campaigns"]]
    if not wanted:
        return
    rows = session.execute(
        select(CampaignRow.id, CampaignRow.definition).where(CampaignRow.id.in_(wanted))
    ).tuples()
    definitions = dict(rows.all())
    for entry in report["campaigns"]:
        definition = definitions.get(entry["id"])
        declared = (definition or {}).get("deliverables", [])
        if not any(d.get("partners") for d in declared):
            continue
        try:
            campaign = Campaign.model_validate(definition)
        except ValidationError:
            continue
        tasks = key_task_status(session, campaign, as_of, deliverable)
        if tasks:
            entry["key_tasks"] = tasks
