"""Closure rates of a campaign's rectification items at a moment, as plain data: what
``duban status`` prints as its second table and under ``rectification`` in ``--json``.

``status`` reads the ledger alone (it names no campaign file), so the campaign's calendar,
zone and roll rule come from the definition registered with it (``CampaignRow.definition``),
and the units' names and tags from its registered units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import CampaignRow, UnitRow
from duban.model.campaign import Campaign
from duban.model.loader import calendar_of
from duban.selfcheck.commands import roll_of
from duban.selfcheck.ledger import list_items
from duban.selfcheck.rates import Counts, Rules, by_tag, by_unit, counts


def rectification_rates(
    session: Session, campaign_id: str, definition: dict[str, Any], as_of: datetime
) -> dict[str, Any] | None:
    """Per roster tag and per unit with items, and for the whole campaign: items found,
    closed, open, overdue, cancelled, closure rate and on-time closure rate (``rates``); None
    when the campaign has no item, or when its registered definition no longer reads as a
    campaign (registered by an older duban: ``duban init`` registers it again)."""
    items = list_items(session, campaign_id)
    if not items:
        return None
    try:
        campaign = Campaign.model_validate(definition)
    except ValidationError:
        return None
    rules = Rules(
        as_of.astimezone(campaign.zone).date(), calendar_of(campaign), campaign.zone,
        roll_of(campaign),
    )  # fmt: skip
    units = session.execute(
        select(UnitRow.id, UnitRow.name, UnitRow.tags).where(UnitRow.campaign_id == campaign_id)
    ).tuples()
    names, tags_of = {}, {}
    for unit_id, name, tags in units:
        names[unit_id], tags_of[unit_id] = name, [str(t) for t in tags]
    return {
        "day": rules.day.isoformat(),
        "total": as_dict(counts(items, rules)),
        "by_tag": [{"tag": tag} | as_dict(c) for tag, c in by_tag(items, rules, tags_of).items()],
        "by_unit": [
            {"unit": unit_id, "name": names.get(unit_id, "")} | as_dict(c)
            for unit_id, c in by_unit(items, rules).items()
        ],
    }


def as_dict(counted: Counts) -> dict[str, Any]:
    return {
        "found": counted.found,
        "closed": counted.closed,
        "open": counted.open,
        "overdue": counted.overdue,
        "cancelled": counted.cancelled,
        "closure_rate": counted.closure_rate,
        "on_time_rate": counted.on_time_rate,
    }


def add_rectification_rates(session: Session, report: dict[str, Any], as_of: datetime) -> None:
    """Each campaign of a ``status_report`` with items gets its rates under
    ``rectification``; a campaign without any is left as it was."""
    rows = session.execute(select(CampaignRow.id, CampaignRow.definition)).tuples()
    definitions = dict(rows.all())
    for campaign in report["campaigns"]:
        definition = definitions.get(campaign["id"])
        if definition is None:
            continue
        rates = rectification_rates(session, campaign["id"], definition, as_of)
        if rates is not None:
            campaign["rectification"] = rates
