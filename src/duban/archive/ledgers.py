"""A rectification ledger (整改台账) in the bag, written again from the restored ledger.

The moment is that of the ``rectification.ledger-written`` event that wrote the file
(``archive.written``); the items are those created by then, the campaign files those kept by
then (``archive.versions``), the rules (the day, overdue, on time) those of that moment, and the
workbook is written again by the function ``duban rectify ledger`` writes it with
(``selfcheck.commands.ledger_book``), then compared cell by cell (``archive.cells``).

The ledger keeps each item as it stands now, not as it stood: an item moved after the workbook
was written (a later ``updated_at``) had a state, progress and deadline then that the bag no
longer holds. Its rows are compared on what never changes (number, code, category, finding,
measure, unit, owner), and the sheets that count states (the summary, the overdue items) are
not compared; the replay says how many items that concerned.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from duban.archive.cells import Scope, compare_workbooks
from duban.archive.restore import Restored
from duban.archive.versions import Versions
from duban.archive.written import Written, moment
from duban.errors import Problem
from duban.selfcheck.commands import ledger_book, rules_at
from duban.selfcheck.ledger import list_items
from duban.selfcheck.texts import LEDGER_TEXTS

FIXED_COLUMNS = range(7)
"""序号, code, category, finding, measure, unit, owner: what a move never changes."""


def check_ledger(
    path: Path, relative: str, written: Written, ledger: Restored, versions: Versions
) -> tuple[tuple[str, str], list[Problem]]:
    """What was replayed (English, Chinese) and each cell that differs."""
    campaign_id = ledger.bundle.campaign.id
    with ledger.session() as session:
        bundle = versions.at(session, campaign_id, written.at)
        items = [i for i in list_items(session, campaign_id) if i.created_at <= written.at]
    moved = frozenset(i.code for i in items if i.updated_at > written.at)
    again = ledger.scratch / "ledgers" / path.name
    again.parent.mkdir(exist_ok=True)
    ledger_book(again, bundle, items, rules_at(bundle, written.at))
    at = moment(written, bundle.campaign.zone)
    what = (f"{len(items)} items as of {at}", f"截至 {at} 的 {len(items)} 项")
    scope = Scope()
    if moved:
        texts = LEDGER_TEXTS[bundle.campaign.language]
        scope = Scope(frozenset({texts.summary_sheet, texts.overdue_sheet}), _fixed(moved))
        what = (f"{what[0]} ({len(moved)} moved since: their fixed columns only, the summary "
                "and overdue sheets not recomputed)",
                f"{what[1]}（其中 {len(moved)} 项此后有变动：仅核对不变的列，汇总与逾期工作表"
                "未复算）")  # fmt: skip
    return what, compare_workbooks(path, again, relative, scope)


def _fixed(moved: frozenset[str]) -> Any:
    def columns(sheet: str, row: tuple[Any, ...]) -> Collection[int] | None:
        return FIXED_COLUMNS if len(row) > 1 and row[1] in moved else None

    return columns
