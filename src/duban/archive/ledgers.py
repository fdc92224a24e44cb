"""A rectification ledger (整改台账) in the bag, written again from the restored ledger.

The moment is that of the ``rectification.ledger-written`` event that wrote the file
(``archive.written``); the items are those created by then, the campaign files those kept by
then (``archive.versions``), the rules (the day, overdue, on time) those of that moment, and the
workbook is written again by the function ``duban rectify ledger`` writes it with
(``selfcheck.commands.ledger_book``), then compared cell by cell (``archive.cells``).

The ledger keeps each item as it stands now; an item moved after the workbook was written is
taken as it stood then, rebuilt from its moves logged before that event (the log's order, not
the clock: a ledger written with ``--as-of`` after later moves showed them; see
``selfcheck.history.items_as_of``), so its
state, progress, deadline and closing day are compared too, and the summary and overdue sheets
recounted. Only what its events cannot say is left out: such an item's rows are compared on the
other columns, and when its state, deadline or closing day is unknown the sheets that count them
(the summary, the overdue items) are not compared; the replay says how many items that concerned.
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
from duban.selfcheck.history import items_as_of
from duban.selfcheck.texts import LEDGER_TEXTS

COLUMNS_OF = {"deadline": (7,), "progress": (8,), "state": (9, 10), "closed_at": (10,)}
"""The cells (0-based) of an item's row each rebuilt field is shown in: 整改时限, 整改进展,
完成情况 (the state) and 销号时间 (the closing day, shown while closed)."""
COUNTED = frozenset({"state", "deadline", "closed_at"})
"""What the summary and overdue sheets count by (``rates.count_item``)."""


def check_ledger(
    path: Path, relative: str, written: Written, ledger: Restored, versions: Versions
) -> tuple[tuple[str, str], list[Problem]]:
    """What was replayed (English, Chinese) and each cell that differs."""
    campaign_id = ledger.bundle.campaign.id
    with ledger.session() as session:
        bundle = versions.at(session, campaign_id, written.at)
        then = items_as_of(session, campaign_id, written.at, written.id)
    again = ledger.scratch / "ledgers" / path.name
    again.parent.mkdir(exist_ok=True)
    ledger_book(again, bundle, [t.item for t in then], rules_at(bundle, written.at))
    at = moment(written, bundle.campaign.zone)
    what = (f"{len(then)} items as of {at}", f"截至 {at} 的 {len(then)} 项")
    if moved := sum(t.moved_since for t in then):
        what = (f"{what[0]} ({moved} moved since, as they stood then from their events)",
                f"{what[1]}（其中 {moved} 项此后有变动，按事件还原当时状态）")  # fmt: skip
    unknown = {t.item.code: cells for t in then if (cells := _cells(t.unknown))}
    if not unknown:  # what the events cannot say is nothing the workbook shows
        return what, compare_workbooks(path, again, relative)
    texts = LEDGER_TEXTS[bundle.campaign.language]
    uncounted = any(t.unknown & COUNTED for t in then)
    sheets = frozenset({texts.summary_sheet, texts.overdue_sheet} if uncounted else ())
    what = (f"{what[0]} ({len(unknown)} whose events do not say all they were then: those "
            "cells not compared" + (", nor the summary and overdue sheets)" if uncounted else ")"),
            f"{what[1]}（其中 {len(unknown)} 项的事件不足以还原当时状态：相应单元格未核对"
            + ("，汇总与逾期工作表未复算）" if uncounted else "）"))  # fmt: skip
    return what, compare_workbooks(path, again, relative, Scope(sheets, _known(unknown)))


def _cells(unknown: frozenset[str]) -> frozenset[int]:
    return frozenset(col for name in unknown for col in COLUMNS_OF.get(name, ()))


def _known(unknown: dict[str, frozenset[int]]) -> Any:
    """Per row, every column but those of what its item's events cannot say."""

    def columns(sheet: str, row: tuple[Any, ...]) -> Collection[int] | None:
        left_out = unknown.get(row[1]) if len(row) > 1 else None
        return None if left_out is None else [c for c in range(len(row)) if c not in left_out]

    return columns
