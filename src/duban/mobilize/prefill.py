"""The open items a progress report's templates come pre-filled with (整改进展).

For a deliverable with ``rectification_progress``, each unit's workbook lists exactly its open
items (neither closed nor cancelled), one row each, the code, finding, measure and deadline
locked (grey). One ``SheetPrefiller`` serves every unit of a master, built from the first
unit's copy. A unit with no open item still receives the form, with no rows: it owes the
report all the same (the duty is in the ledger and chased like any other), and may return it
empty or with problems found since.

The notice refuses a unit with more open items than the sheet holds (``TooManyItemsError``); a
reminder (chase, remind) loads leniently instead, so that one such unit does not stop every
other unit's reminder: its attachment is the form without the items, as reminders were before,
and ``overfull`` names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from duban.adapters.xlsx.prefill import SheetPrefiller
from duban.errors import DubanError
from duban.model.campaign import Campaign, Deliverable, ProgressSpec
from duban.model.forms import Sheet
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import open_items_by_unit
from duban.selfcheck.progress import locked_keys, prefill_rows
from duban.selfcheck.reporting import progress_sheet


class TooManyRowsError(DubanError):
    """A unit's template would need more pre-filled rows than the sheet holds (a lead's
    partners' parts and its own key tasks): none is sent rather than one that drops rows."""

    def __init__(
        self, unit_id: str, count: int, sheet: Sheet, *, en: str = "rows to pre-fill",
        zh: str = "行需预填",
    ) -> None:  # fmt: skip
        super().__init__(
            f"{unit_id} has {count} {en}; the sheet {sheet.name!r} holds {sheet.max_rows} rows",
            hint="raise the sheet's max_rows in the campaign file (and its form version)",
            zh=f"单位 {unit_id} 有 {count} {zh}，工作表“{sheet.name}”只有 {sheet.max_rows} 行",
            zh_hint="请在活动文件中调大该工作表的 max_rows（并提高表单版本号）",
        )


class TooManyItemsError(TooManyRowsError):
    """A unit has more open items than the progress sheet has rows: its report could not list
    them all, so none is sent rather than one that drops items silently."""

    def __init__(self, unit_id: str, count: int, sheet: Sheet) -> None:
        super().__init__(unit_id, count, sheet, en="open rectification items",
                         zh="个未办结的整改问题")  # fmt: skip


class Prefill(Protocol):
    """What a notice builder pre-fills its units' workbooks with (``ItemPrefill``,
    ``partfill.PartFill``): loaded for many units at once, then filled per unit."""

    overfull: set[str]

    def load(self, session: Session, unit_ids: Iterable[str], *, strict: bool = True) -> None: ...

    def fill(self, workbook: bytes, unit_id: str) -> bytes: ...


class ItemPrefill:
    """The rows of each unit's template of one master, and the filler that writes them."""

    def __init__(self, campaign: Campaign, deliverable: Deliverable) -> None:
        assert deliverable.rectification_progress is not None
        self.campaign_id = campaign.id
        self.spec: ProgressSpec = deliverable.rectification_progress
        self.sheet: Sheet = progress_sheet(campaign, deliverable)
        self.items: dict[str, list[Item]] = {}
        self.overfull: set[str] = set()
        """Units loaded leniently whose open items the sheet cannot hold: no rows are written."""
        self._loaded: set[str] = set()
        self._filler: SheetPrefiller | None = None

    def load(self, session: Session, unit_ids: Iterable[str], *, strict: bool = True) -> None:
        """Read the open items of these units (those not read before), in one query; a unit
        with more than the sheet holds is refused here, before any notice is drafted, or, not
        ``strict``, left in ``overfull`` (its form goes out without the items)."""
        wanted = set(unit_ids) - self._loaded
        found = open_items_by_unit(session, self.campaign_id, wanted)
        for unit_id, items in sorted(found.items()):
            if len(items) > self.sheet.max_rows:
                if strict:
                    raise TooManyItemsError(unit_id, len(items), self.sheet)
                self.overfull.add(unit_id)
                del found[unit_id]
        self.items.update(found)
        self._loaded |= wanted

    def rows(self, unit_id: str) -> Sequence[Item]:
        if unit_id not in self._loaded:
            raise AssertionError(f"the open items of {unit_id} were not loaded")
        return self.items.get(unit_id, [])

    def fill(self, workbook: bytes, unit_id: str) -> bytes:
        """``workbook`` (the unit's copy of the master) with the unit's open items in it (as
        it is for an ``overfull`` unit)."""
        if unit_id in self.overfull:
            return workbook
        if self._filler is None:
            self._filler = SheetPrefiller(workbook, self.sheet.name)
        rows = prefill_rows(self.rows(unit_id), self.spec, self.sheet)
        keys = [c.key for c in self.sheet.columns]
        return self._filler.fill(workbook, rows, locked_keys(self.spec), keys)
