"""What the ledger says about a key task chain: the partners' accepted parts of one period.

Read once for many leads (one query for the period), so a notice run over every lead, or the
check of one lead's reply, costs the same few queries.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.implement.parts import Chain, led, part_rows, partners_of
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.model.loader import CampaignBundle

Versions = list[list[dict[str, Any]]]
"""A partner's accepted reports for a lead, oldest first, as the lead's template shows them."""


def accepted_parts(
    session: Session, bundle: CampaignBundle, chain: Chain, period: str, lead_ids: Collection[str]
) -> dict[str, dict[str, Versions]]:
    """Lead id → partner id → the partner's accepted reports of ``period`` (every version,
    oldest first), only the rows about key tasks that lead leads; a partner with nothing
    accepted is absent."""
    campaign = bundle.campaign
    partners = {p for lead in lead_ids for p in partners_of(campaign, chain, lead)}
    query = (
        select(InstanceRow.unit_id, SubmissionRow.rows)
        .join(SubmissionRow, SubmissionRow.instance_id == InstanceRow.id)
        .where(InstanceRow.campaign_id == campaign.id,
               InstanceRow.deliverable_id == chain.parts.id,
               InstanceRow.period == period, InstanceRow.unit_id.in_(sorted(partners)))
        .order_by(InstanceRow.unit_id, SubmissionRow.version)
    )  # fmt: skip
    reports: dict[str, list[list[dict[str, Any]]]] = {}
    for unit_id, rows in session.execute(query):
        reports.setdefault(unit_id, []).append(list(rows.get(chain.sheet.name, [])))
    return {lead: _for_lead(bundle, chain, lead, reports) for lead in lead_ids}


def _for_lead(
    bundle: CampaignBundle, chain: Chain, lead_id: str, reports: dict[str, Versions]
) -> dict[str, Versions]:
    campaign = bundle.campaign
    titles = {t.title for t in led(campaign, chain, lead_id)}
    found: dict[str, Versions] = {}
    for partner in partners_of(campaign, chain, lead_id):
        if partner not in reports:
            continue
        name = bundle.units_by_id[partner].name
        found[partner] = [
            part_rows(chain, [r for r in version if str(r.get(chain.task_column)) in titles], name)
            for version in reports[partner]
        ]
    return found
