"""An evaluation's workbooks in the bag, compared by value with the recomputed placings.

The ranking (考核排名表-LABEL-STAGE.xlsx, ``ranking-…`` in English) and the accountability list
(问责名单-…, ``accountability-…``), STAGE being ``v<version>`` or ``final`` (the frozen
version), as ``evaluate.commands.write_outputs`` names them. Every sheet whose header starts
with the unit columns and has a total column is read: each row's unit, rank and total against
the recomputed placing; the ranking's overall sheet must list every ranked unit, the
accountability list every flagged or exempted unit and no other. So one cell edited in the
workbook is named even when every manifest was recomputed after it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from duban.errors import Problem
from duban.evaluate.evaluation import Evaluation
from duban.evaluate.ranking import Placing
from duban.evaluate.workbook import WORDS, WorkbookWords

NAMED = re.compile(
    r"^(?P<book>考核排名表|ranking|问责名单|accountability)-(?P<label>.+)-(?P<stage>v\d+|final)\.xlsx$"
)
ACCOUNTABILITY = ("问责名单", "accountability")


def check_ranking(path: Path, relative: str, result: Evaluation, book_name: str) -> list[Problem]:
    """Each row that differs from ``result``, and each unit missing or listed wrongly."""
    from openpyxl import load_workbook

    placings = {p.unit_id: p for p in result.placings}
    listed = placings
    if book_name in ACCOUNTABILITY:
        listed = {u: p for u, p in placings.items() if p.flagged or p.exempt}
    found: list[Problem] = []
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = 0
        for ws in book.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = [str(c) if c is not None else "" for c in next(rows, ())]
            words = next((w for w in WORDS.values() if tuple(header[:4]) == w.columns), None)
            if words is None or words.tail[0] not in header:
                continue
            sheets += 1
            total_at = header.index(words.tail[0])
            seen = set()
            for number, row in enumerate(rows, start=2):
                if len(row) > 2 and row[2] is not None:
                    seen.add(str(row[2]))
                    found += _row(relative, ws.title, number, row, total_at, listed)
            if ws.title in _whole(words, book_name):
                found += _missing(relative, ws.title, set(listed) - seen)
        if not sheets:
            found.append(Problem(relative, "no ranking sheet found in the workbook",
                                 "工作簿中没有排名表"))  # fmt: skip
    finally:
        book.close()
    return found


def _whole(words: WorkbookWords, book_name: str) -> tuple[str, ...]:
    """The sheets that list every unit they should (the others are a group's)."""
    return (words.accountability,) if book_name in ACCOUNTABILITY else (words.overall_sheet,)


def _missing(relative: str, sheet: str, units: set[str]) -> list[Problem]:
    return [
        Problem(f"{relative} sheet {sheet}", f"unit {unit} missing (the recomputed result lists "
                "it)", f"缺少单位 {unit}（复算结果中有该单位）", f"{relative} 工作表“{sheet}”")
        for unit in sorted(units)
    ]  # fmt: skip


def _row(
    relative: str, sheet: str, number: int, row: tuple[Any, ...], total_at: int,
    placings: dict[str, Placing],
) -> list[Problem]:  # fmt: skip
    unit = str(row[2])
    where = f"{relative} sheet {sheet} row {number} (unit {unit})"
    zh_where = f"{relative} 工作表“{sheet}”第 {number} 行（单位 {unit}）"
    placing = placings.get(unit)
    if placing is None:
        return [Problem(where, "a unit the recomputed result does not list here",
                        "复算结果在此不应列出该单位", zh_where)]  # fmt: skip
    found = []
    rank, total = row[1], row[total_at] if len(row) > total_at else None
    if not _number_is(rank, placing.rank):
        found.append(Problem(where, f"rank is {rank}, recomputed {placing.rank}",
                             f"排名为 {rank}，复算为 {placing.rank}", zh_where))  # fmt: skip
    if not _number_is(total, placing.total):
        found.append(Problem(where, f"total is {total}, recomputed {placing.total}",
                             f"总分为 {total}，复算为 {placing.total}", zh_where))  # fmt: skip
    return found


def _number_is(cell: Any, value: Decimal | int) -> bool:
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return False
    return float(cell) == float(value)
