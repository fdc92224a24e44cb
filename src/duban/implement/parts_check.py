"""A returned workbook of a key task chain read against the chain: a partner's rows about its
own key tasks; a lead's keeping its partners' accepted parts (``parts.check_lead``).

Run in the record's transaction after the cells are valid; what it finds rejects the file like
an invalid cell, each finding named by sheet and row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from duban.implement.parts import PartFinding, chain_of, check_lead, check_part
from duban.implement.parts_ledger import accepted_parts
from duban.model.loader import CampaignBundle
from duban.model.validation import Grid, Position, filled_row_numbers


def check_chain(
    session: Session,
    bundle: CampaignBundle,
    deliverable_id: str,
    period: str,
    unit_id: str,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    sheets: Mapping[str, Grid],
    uncomputed: Mapping[str, Collection[Position]],
) -> list[PartFinding]:
    """What is wrong with the chain's rows of this workbook; nothing for other deliverables."""
    campaign = bundle.campaign
    chain = chain_of(campaign, campaign.deliverable(deliverable_id))
    if chain is None:
        return []
    name = chain.sheet.name
    mine = list(rows.get(name, ()))
    grid = sheets.get(name, [])
    numbers = filled_row_numbers(chain.sheet, grid, frozenset(uncomputed.get(name, ())))
    if deliverable_id == chain.parts.id:
        return check_part(campaign, chain, unit_id, mine, numbers)
    parts = accepted_parts(session, bundle, chain, period, [unit_id])[unit_id]
    names = {u.id: u.name for u in bundle.units}
    return check_lead(campaign, chain, unit_id, mine, numbers, parts, names)
