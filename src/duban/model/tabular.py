"""Reading a register a coordinator keeps as a CSV or XLSX file: the roster, the inspectors.

Offices keep such lists in Excel or WPS, so a file is read as they save it: CSV in UTF-8 or
GB18030 (GBK is a subset), with or without a byte order mark, or the first sheet of an XLSX
workbook. The header row is found by its labels among the first rows, so a title row above it
(often merged across the columns) and blank rows are allowed; labels may carry spaces, a ``*``
marking a required column and a note in brackets (``联系邮箱（多个用；分隔）``).

Each register names its own columns (``aliases``) and words its own problems; the places of
those problems (file, row as the spreadsheet program numbers it, column as labelled in the
file) are worded here, once, in English and Chinese.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from duban.errors import InvalidInputError, Problem
from duban.model.campaign import Language

HEADER_SEARCH_ROWS = 10
"""The header row is looked for among this many rows at the top of the file."""
_LABEL_NOISE = re.compile(r"[\s*＊]+|[(（][^)）]*[)）]")
_UTF8_BOM = b"\xef\xbb\xbf"
_GB18030_BOM = "\ufeff".encode("gb18030")

PLACES: dict[Language, dict[str, str]] = {
    "en": {
        "row": "{source} row {row}",
        "rows": "{source} rows {rows}",
        "cell": "{source} row {row}, column {label}",
        "none": "(none)",
    },
    "zh-CN": {
        "row": "{source} 第{row}行",
        "rows": "{source} {rows}",
        "cell": "{source} 第{row}行“{label}”列",
        "none": "（无）",
    },
}
"""Where a problem is; every register's messages add their own codes to these."""

Row = tuple[int, list[str]]
"""A row's number as the spreadsheet program shows it (from 1) and its cells as text."""


@dataclass(frozen=True)
class Say:
    """The messages of one register file in one language.

    A register's ``messages`` must hold ``file-type``, ``encoding`` (with ``{byte}``) and
    ``workbook``, the problems of a file that cannot be read at all."""

    source: str
    language: Language
    messages: Mapping[Language, Mapping[str, str]]

    def __call__(self, code: str, **detail: Any) -> str:
        words = self.messages[self.language].get(code) or PLACES[self.language][code]
        return words.format(**detail)

    def row(self, row: int) -> str:
        return self("row", source=self.source, row=row)

    def rows(self, rows: Sequence[int]) -> str:
        if self.language == "zh-CN":
            listed = "、".join(f"第{n}行" for n in rows)
        else:
            listed = ", ".join(map(str, rows[:-1])) + " and " + str(rows[-1])
        return self("rows", source=self.source, rows=listed)

    def cell(self, row: int, label: str) -> str:
        return self("cell", source=self.source, row=row, label=label)

    def join(self, items: Sequence[str]) -> str:
        if not items:
            return self("none")
        if self.language == "zh-CN":
            return "、".join(f"“{item}”" for item in items)
        return ", ".join(items)

    def problem(self, where: Callable[[Say], str], message: Callable[[Say], str]) -> Problem:
        """A problem worded in this reader's language, with the Chinese beside it for
        ``Problem.said`` (``where`` and ``message`` word it for a given ``Say``)."""
        chinese = replace(self, language="zh-CN")
        return Problem(where(self), message(self), zh=message(chinese), zh_where=where(chinese))

    def file_problem(self, code: str, **detail: Any) -> Problem:
        """A problem of the whole file, named as the reader named it."""
        return self.problem(lambda s: s.source, lambda s: s(code, **detail))

    def times(self, count: int) -> str:
        if self.language == "zh-CN":
            return f"{count}次"
        return "twice" if count == 2 else f"{count} times"


def read_rows(path: Path, say: Say) -> list[Row]:
    """Every row of a CSV file or of an XLSX workbook's first sheet, empty ones included."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, say)
    if path.suffix.lower() == ".csv":
        records = csv.reader(io.StringIO(_decode(path, say)))
        return list(enumerate(records, start=1))  # a record is a row in Excel or WPS
    raise InvalidInputError(str(path), [say.file_problem("file-type")])


def _decode(path: Path, say: Say) -> str:
    """UTF-8 or GB18030 (GBK is a subset), with or without a byte order mark.

    Some programs put the UTF-8 mark before GBK text, so the mark alone does not decide."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    body = data.removeprefix(_UTF8_BOM).removeprefix(_GB18030_BOM)
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError as error:
        offset = error.start + len(data) - len(body)
        raise InvalidInputError(str(path), [say.file_problem("encoding", byte=offset)]) from None


def _read_xlsx(path: Path, say: Say) -> list[Row]:
    from openpyxl import load_workbook  # only registers in XLSX need it; keeps start-up light
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise InvalidInputError(str(path), [say.file_problem("workbook")]) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read-only mode trusts a stale dimension and drops rows
        cells = sheet.iter_rows(min_row=1, values_only=True)  # empty rows included
        return [
            (number, ["" if v is None else str(v) for v in row])
            for number, row in enumerate(cells, start=1)
        ]
    finally:
        book.close()


def _filled_rows(rows: list[Row]) -> list[Row]:
    """The rows with at least one cell that is not blank."""
    return [(number, cells) for number, cells in rows if any(c.strip() for c in cells)]


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[str, int]
    """The column index of each field the header names."""
    labels: dict[str, str]
    """Each field's label as written in the file."""
    found: list[str]
    """Every non-empty label of the row, in order."""

    def cell(self, cells: list[str], key: str) -> str:
        """The stripped text of a row's cell under the field ``key`` ('' if there is none)."""
        index = self.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def _find_header(filled: list[Row], aliases: Mapping[str, str], required: Sequence[str]) -> Header:
    """The first row naming every required column, else the one naming the most columns."""
    candidates = [
        _header_of(number, cells, aliases) for number, cells in filled[:HEADER_SEARCH_ROWS]
    ]
    for header in candidates:
        if all(h in header.columns for h in required):
            return header
    return max(candidates, key=lambda h: len(h.columns))  # the first of the best


def _header_of(number: int, cells: list[str], aliases: Mapping[str, str]) -> Header:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, raw in enumerate(cells):
        key = aliases.get(_LABEL_NOISE.sub("", raw).lower())
        if key is not None and key not in columns:
            columns[key] = index
            labels[key] = raw.strip()
    found = [cell.strip() for cell in cells if cell.strip()]
    return Header(number, columns, labels, found)


def rows_of_each(values: Sequence[tuple[int, str]]) -> dict[str, list[int]]:
    """The rows (numbers) on which each value appears, for checks of uniqueness."""
    rows: dict[str, list[int]] = {}
    for number, value in values:
        rows.setdefault(value, []).append(number)
    return rows


def _missing_columns(
    header: Header, required: Sequence[str], chinese: Mapping[str, str], say: Say
) -> Problem | None:
    """The problem of a header row lacking required columns (the register's ``missing``
    message), naming them as the reader would, and the headers that were found."""
    missing = [h for h in required if h not in header.columns]
    if not missing:
        return None

    def message(s: Say) -> str:
        named = [chinese[h] for h in missing] if s.language == "zh-CN" else missing
        return s("missing", missing=s.join(named), found=s.join(header.found))

    return say.problem(lambda s: s.row(header.row), message)


def records(
    rows: list[Row],
    aliases: Mapping[str, str],
    required: Sequence[str],
    chinese: Mapping[str, str],
    say: Say,
    problems: list[Problem],
) -> tuple[Header, list[Row]] | None:
    """The header and the filled rows below it; None (the problem noted: the register's
    ``empty`` or ``missing`` message) if the file is empty or lacks a required column."""
    filled = _filled_rows(rows)
    if not filled:
        problems.append(say.file_problem("empty"))
        return None
    header = _find_header(filled, aliases, required)
    missing = _missing_columns(header, required, chinese, say)
    if missing is not None:
        problems.append(missing)
        return None
    return header, [(number, cells) for number, cells in filled if number > header.row]
