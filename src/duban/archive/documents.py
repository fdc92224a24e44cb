"""A bulletin (.docx) in the bag against the same bulletin written again, by its text.

The bulletin is written again by the function that wrote it, from the figures recomputed for
its moment, into a scratch file; the two documents' paragraphs and table cells are then
compared in order, as text. Layout (fonts, spacing, the red rule) is not compared: the counts,
rates, named units and scores are, and so are the sentences the same code makes from them.
"""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path

from duban.errors import Problem

MOST = 20
"""Differences named per document; past it, how many more."""


def compare_documents(have: Path, want: Path, relative: str) -> list[Problem]:
    """Each paragraph or table cell of ``have`` (the bag's) that differs from ``want``."""
    found: list[Problem] = []
    more = 0
    for (where, zh, kept), (other, other_zh, again) in zip_longest(
        _texts(have), _texts(want), fillvalue=("", "", None)
    ):
        if kept == again:
            continue
        if len(found) == MOST:
            more += 1
            continue
        place, zh_place = where or other, zh or other_zh
        found.append(Problem(f"{relative} {place}", f"reads {_quoted(kept)}, recomputed "
                             f"{_quoted(again)}", f"为 {_quoted(kept)}，复算为 {_quoted(again)}",
                             f"{relative} {zh_place}"))  # fmt: skip
    if more:
        found.append(Problem(relative, f"and {more} more passages differ",
                             f"另有 {more} 处不同"))  # fmt: skip
    return found


def _texts(path: Path) -> list[tuple[str, str, str]]:
    """(where, where in Chinese, text) of every paragraph, then every table cell."""
    import docx

    document = docx.Document(str(path))
    found = [(f"paragraph {n}", f"第 {n} 段", p.text)
             for n, p in enumerate(document.paragraphs, start=1)]  # fmt: skip
    for t, table in enumerate(document.tables, start=1):
        for r, row in enumerate(table.rows, start=1):
            for c, cell in enumerate(row.cells, start=1):
                found.append((f"table {t} row {r} cell {c}", f"第 {t} 个表格第 {r} 行第 {c} 格",
                              cell.text))  # fmt: skip
    return found


def _quoted(text: str | None) -> str:
    if text is None:
        return "(nothing)"
    return f"“{text if len(text) <= 60 else text[:57] + '…'}”"
