"""The open items a progress report's templates come pre-filled with (整改进展).

For a deliverable with ``rectification_progress``, each unit's workbook lists exactly its open
items (neither closed nor cancelled), one row each, the code, finding, measure and deadline
locked (grey). One ``SheetPrefiller`` serves every unit of a master, built from the first
unit's copy. A unit with no open item still receives the form, with no rows: it owes the
report all the same (the duty is in the ledger and chased like any other), and may return it
empty or with problems found since.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from duban.adapters.xlsx.prefill import SheetPrefiller
from duban.model.campaign import Campaign, Deliverable, ProgressSpec
from duban.model.forms import Sheet
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import open_items_by_unit
from duban.selfcheck.progress import locked_keys, prefill_rows
from duban.selfcheck.reporting import progress_sheet


class ItemPrefill:
    """The rows of each unit's template of one master, and the filler that writes them."""

    def __init__(self, campaign: Campaign, deliverable: Deliverable) -> None:
        assert deliverable.rectification_progress is not None
        self.campaign_id = campaign.id
        self.spec: ProgressSpec = deliverable.rectification_progress
        self.sheet: Sheet = progress_sheet(campaign, deliverable)
        self.items: dict[str, list[Item]] = {}
        self._loaded: set[str] = set()
        self._filler: SheetPrefiller | None = None

    def load(self, session: Session, unit_ids: Iterable[str]) -> None:
        """Read the open items of these units (those not read before), in one query."""
        wanted = set(unit_ids) - self._loaded
        self.items.update(open_items_by_unit(session, self.campaign_id, wanted))
        self._loaded |= wanted

    def rows(self, unit_id: str) -> Sequence[Item]:
        if unit_id not in self._loaded:
            raise AssertionError(f"the open items of {unit_id} were not loaded")
        return self.items.get(unit_id, [])

    def fill(self, workbook: bytes, unit_id: str) -> bytes:
        """``workbook`` (the unit's copy of the master) with the unit's open items in it."""
        if self._filler is None:
            self._filler = SheetPrefiller(workbook, self.sheet.name)
        rows = prefill_rows(self.rows(unit_id), self.spec, self.sheet)
        keys = [c.key for c in self.sheet.columns]
        return self._filler.fill(workbook, rows, locked_keys(self.spec), keys)
