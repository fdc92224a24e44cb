"""The rows a key task chain's templates come pre-filled with (牵头汇总、配合报送).

A partner's template: one row per key task it partners, the title locked. A lead's template:
each partner's latest accepted part, every cell locked and the partner named in 报送单位, then
one row per key task it leads, the title locked, for its own share; rows below stay free for
more. Read from the ledger when the drafts are made (``load``), so a copy shows the parts as
they stood then; ``digest`` names that state, so a lead is sent a fresh copy only when a part
changed (``implement.leadcopy``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy.orm import Session

from duban.adapters.xlsx.prefill import SheetPrefiller
from duban.implement.parts import Chain, led, partnered, task_rows
from duban.implement.parts_ledger import Versions, accepted_parts
from duban.mobilize.prefill import TooManyRowsError
from duban.model.campaign import REPORTED_BY
from duban.model.loader import CampaignBundle


class PartFill:
    """The pre-filled rows of each unit's template of one chain deliverable and period."""

    def __init__(self, bundle: CampaignBundle, chain: Chain, deliverable_id: str, period: str):
        self.bundle = bundle
        self.chain = chain
        self.period = period
        self.for_lead = deliverable_id == chain.lead.id
        form = bundle.campaign.form_of(chain.lead if self.for_lead else chain.parts)
        self.sheet = next(s for s in form.sheets if s.name == chain.sheet.name)
        """The sheet as this deliverable's form has it: a partner's has no 报送单位."""
        self.parts: dict[str, dict[str, Versions]] = {}
        self.overfull: set[str] = set()
        self._filler: SheetPrefiller | None = None

    def load(self, session: Session, unit_ids: Iterable[str], *, strict: bool = True) -> None:
        """Read the partners' accepted parts for these leads (nothing to read for partners)."""
        wanted = [u for u in unit_ids if u not in self.parts]
        if self.for_lead and wanted:
            found = accepted_parts(session, self.bundle, self.chain, self.period, wanted)
            self.parts.update(found)
        for unit_id in wanted:
            self.parts.setdefault(unit_id, {})
            if len(self.rows(unit_id)[0]) > self.sheet.max_rows:
                if strict:
                    raise TooManyRowsError(unit_id, len(self.rows(unit_id)[0]), self.sheet)
                self.overfull.add(unit_id)

    def latest(self, unit_id: str) -> dict[str, list[dict[str, Any]]]:
        """Partner id → its latest accepted rows, as this lead's template shows them."""
        return {p: versions[-1] for p, versions in self.parts.get(unit_id, {}).items()}

    def digest(self, unit_id: str) -> str:
        """A short name for the parts this lead's copy holds: a new one, a new copy."""
        text = json.dumps(self.latest(unit_id), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def rows(self, unit_id: str) -> tuple[list[dict[str, Any]], list[Collection[str]]]:
        """The unit's rows and, for each, the keys locked."""
        campaign, chain = self.bundle.campaign, self.chain
        title: Collection[str] = {chain.task_column}
        if not self.for_lead:
            own = task_rows(chain, partnered(campaign, chain, unit_id))
            return own, [title] * len(own)
        theirs = [row for rows in self.latest(unit_id).values() for row in rows]
        own = task_rows(chain, led(campaign, chain, unit_id))
        every: Collection[str] = {c.key for c in chain.sheet.columns}
        mine: Collection[str] = {chain.task_column, REPORTED_BY}
        return theirs + own, [every] * len(theirs) + [mine] * len(own)

    def fill(self, workbook: bytes, unit_id: str) -> bytes:
        """``workbook`` (the unit's copy of the master) with the unit's rows in it."""
        if unit_id in self.overfull:
            return workbook
        if self._filler is None:
            self._filler = SheetPrefiller(workbook, self.sheet.name)
        rows, locks = self.rows(unit_id)
        keys = [c.key for c in self.sheet.columns]
        return self._filler.fill(workbook, rows, (), keys, row_locks=locks)
