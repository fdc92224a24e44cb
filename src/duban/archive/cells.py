"""A workbook in the bag against the same workbook written again, cell by cell, by value.

The replay recomputes an output by running the very function that wrote it (the writer of the
整改台账, of the 督查汇总表) on the restored ledger, into a scratch file; what the two files hold
is then compared sheet by sheet and cell by cell: numbers as numbers (a float written and read
back may differ in its last bit), text as text, an empty cell as none. Formats, widths and
document properties are not compared: the figures and words are. A scope may leave sheets out
and, per row, compare only some columns (what did not change since the output was written).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from duban.errors import Problem

MOST = 20
"""Differences named per sheet; past it, how many more (a row inserted shifts every row)."""

Columns = Callable[[str, tuple[Any, ...]], Collection[int] | None]
"""Per sheet and recomputed row, the columns (0-based) to compare; None: all."""


@dataclass(frozen=True)
class Scope:
    """What of the workbook is compared."""

    sheets_left_out: frozenset[str] = frozenset()
    columns: Columns = field(default=lambda sheet, row: None)


def compare_workbooks(
    have: Path, want: Path, relative: str, scope: Scope = Scope()
) -> list[Problem]:
    """Each cell of ``have`` (the bag's) that differs from ``want`` (written again)."""
    kept, again = _read(have), _read(want)
    found = []
    for name in again:
        if name in scope.sheets_left_out:
            continue
        if name not in kept:
            found.append(Problem(relative, f"sheet {name} missing (the recomputed workbook has "
                                 "it)", f"缺少工作表“{name}”（复算的工作簿中有）"))  # fmt: skip
            continue
        found += _sheet(relative, name, kept[name], again[name], scope.columns)
    for name in kept:
        if name not in again and name not in scope.sheets_left_out:
            found.append(Problem(relative, f"sheet {name} is not in the recomputed workbook",
                                 f"工作表“{name}”不在复算的工作簿中"))  # fmt: skip
    return found


def _read(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}
    finally:
        book.close()


def _sheet(
    relative: str,
    name: str,
    have: list[tuple[Any, ...]],
    want: list[tuple[Any, ...]],
    columns: Columns,
) -> list[Problem]:
    found: list[Problem] = []
    more = 0
    for number, (kept, again) in enumerate(zip_longest(have, want, fillvalue=()), start=1):
        wanted = columns(name, again or kept)
        for col, (a, b) in enumerate(zip_longest(kept, again)):
            if (wanted is not None and col not in wanted) or same(a, b):
                continue
            if len(found) == MOST:
                more += 1
                continue
            cell = f"{get_column_letter(col + 1)}{number}"
            found.append(Problem(
                f"{relative} sheet {name} cell {cell}", f"is {shown(a)}, recomputed {shown(b)}",
                f"为 {shown(a)}，复算为 {shown(b)}", f"{relative} 工作表“{name}”单元格 {cell}",
            ))  # fmt: skip
    if more:
        found.append(Problem(f"{relative} sheet {name}", f"and {more} more cells differ",
                             f"另有 {more} 个单元格不同",
                             f"{relative} 工作表“{name}”"))  # fmt: skip
    return found


def same(a: Any, b: Any) -> bool:
    """Equal as the office reads them: numbers by value, an empty text as no value."""
    a, b = (None if v == "" else v for v in (a, b))
    numbers = tuple(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if all(numbers):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    if isinstance(a, datetime | date) and isinstance(b, datetime | date):
        return a == b
    return bool(a == b) and type(a) is type(b)


def shown(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    return str(value)
