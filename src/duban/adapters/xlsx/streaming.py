"""Workbooks written by streaming with xlsxwriter (``constant_memory``): the summary workbook
(汇总表) and the rectification ledger (整改台账).

Each row goes to a temporary file as soon as the next row starts, so the rows of a sheet are
written in order, and each sheet has a file of its own, so sheets may be filled in any order.
Here are the pieces both writers share: the options that keep what a unit typed as text, the
serials Excel stores dates as, sheet names, the header row and the print setup.

Nothing a unit typed ever becomes a formula: ``strings_to_formulas`` is off, text cells are
written with ``write_string``, and text that a spreadsheet would read as a formula once someone
edits the cell (``=``, ``+``, ``-``, ``@``, tab, carriage return) carries Excel's quote prefix.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped, unused-ignore]

OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
FORMULA_LEADS = frozenset("=+-@\t\r")
EPOCH_ORDINAL = date(1899, 12, 30).toordinal()  # Excel's day 0 in its 1900 date system
FIRST_SERIAL_DAY = date(1900, 3, 1)  # before it Excel's 1900 leap-year bug shifts serials
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"
LINE_HEIGHT = 15  # points per line of 11 pt text, CJK included
MAX_LINES = 27  # Excel's tallest row is 409 points
A4 = 9  # OOXML's paper size code
PAGE_FOOTER = {"zh-CN": "第 &P 页，共 &N 页", "en": "Page &P of &N"}
HEADER_FORMAT = {
    "bold": True,
    "bg_color": "#D9E1F2",
    "border": 1,
    "text_wrap": True,
    "valign": "vcenter",
    "align": "center",
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@contextlib.contextmanager
def streamed_book(path: Path) -> Iterator[Any]:
    """A streaming xlsxwriter workbook whose file appears at ``path`` only once complete.

    It is written beside ``path`` under a hidden name and renamed at the end, so a crash or
    bad input half-way through never leaves a truncated workbook that looks finished.
    """
    partial = path.with_name(f".{path.stem}.partial.xlsx")
    book = xlsxwriter.Workbook(str(partial), OPTIONS)
    try:
        yield book
        book.close()
    except BaseException:
        with contextlib.suppress(Exception):
            book.close()
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)


def text_format(text: str, plain: Any, quoted: Any) -> Any:
    """The quote-prefixed format for text a spreadsheet would otherwise read as a formula."""
    return quoted if text[:1] in FORMULA_LEADS else plain


def moment_serial(moment: datetime, zone: ZoneInfo) -> float:
    """An Excel serial of the moment's wall-clock time in the campaign's zone."""
    local = moment.astimezone(zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return local.toordinal() - EPOCH_ORDINAL + seconds / 86400


def date_serial(value: Any) -> int | None:
    """A date (or ISO text, as validation stores form dates) as an Excel day serial."""
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, date) or value < FIRST_SERIAL_DAY:
        return None
    return value.toordinal() - EPOCH_ORDINAL


def display_width(text: str) -> int:
    """Characters as a spreadsheet shows them: CJK characters are two columns wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrapped_lines(values: Mapping[Any, Any], wrapped: Sequence[tuple[Any, float]]) -> int:
    """Lines the tallest wrapped text of a row takes (``wrapped``: each key and the width of
    its column): neither Excel nor LibreOffice sizes a row to its wrapped text when opening a
    file, so the row height is written. Cheap for short texts, which is most of them."""
    lines = 1
    for key, width in wrapped:
        value = values.get(key)
        if isinstance(value, str) and (len(value) * 2 > width or "\n" in value):
            parts = value.split("\n")
            lines = max(lines, sum(max(1, math.ceil(display_width(p) / width)) for p in parts))
    return min(lines, MAX_LINES)


def unique_sheet_name(name: str, taken: set[str]) -> str:
    """A sheet name of at most 31 characters that no other sheet has (Excel compares them
    case-insensitively), without the characters Excel refuses in one (``[]:*?/\\``)."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", name).strip("'") or "_"
    lowered = {t.lower() for t in taken}
    candidate, n = name[:31], 1
    while candidate.lower() in lowered:
        n += 1
        suffix = f"~{n}"
        candidate = name[: 31 - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def print_setup(ws: Any, *, header: bool, language: str | None = None) -> None:
    """A4 landscape, one page wide, the header row on every page; with ``language``, page
    numbers at the foot in its words."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if header:
        ws.repeat_rows(0)
    if language is not None:
        ws.set_footer(f"&C{PAGE_FOOTER.get(language, PAGE_FOOTER['en'])}")


def write_header(ws: Any, labels: Sequence[str], fmt: Any, *, language: str | None = None) -> None:
    """The header row, printable (``print_setup``), 30 points tall."""
    print_setup(ws, header=True, language=language)
    ws.set_row(0, 30)
    for col, label in enumerate(labels):
        ws.write_string(0, col, label, fmt)
