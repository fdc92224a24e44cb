"""The verification workbook (核验销号表): every item awaiting verification, one row each, for
the coordinator to fill with a verdict and send back (``duban rectify verdicts``, or by email).

What the unit claimed is locked and grey (sheet protection without a password, as the units'
templates: it stops accidental edits, and the reader trusts only the item's code, looking the
rest up in the ledger); the verdict (a dropdown of the two verdicts), the note and the second
reviewer are the only cells open. A hidden ``_duban`` sheet carries the sheet's kind, campaign,
issue day and a token signed as the units' templates are (``adapters.xlsx.token``), so intake
knows a returned copy for the office's own workbook, not a unit's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from duban.adapters.xlsx.layout import METADATA_SHEET
from duban.adapters.xlsx.streaming import (
    DATE,
    HEADER_FORMAT,
    LINE_HEIGHT,
    date_serial,
    streamed_book,
    text_format,
    wrapped_lines,
    write_header,
)
from duban.adapters.xlsx.token import SheetIdentity
from duban.model.campaign import Language
from duban.selfcheck.items import Item
from duban.selfcheck.texts import VERIFY_TEXTS

WIDTHS = (5, 13, 14, 30, 30, 11, 30, 12, 12, 26, 10)
"""Column widths in characters (a CJK character counts two), in the order of the columns."""
CODE, VERDICT, NOTE, REVIEWER = 1, 8, 9, 10
"""Where the reader looks: the item's code and the three columns the coordinator fills."""
_WRAPPED = ((3, WIDTHS[3] - 1), (4, WIDTHS[4] - 1), (6, WIDTHS[6] - 1))
_GREY = "#EDEDED"


@dataclass(frozen=True)
class SheetMeta:
    """The hidden sheet's rows: what the token vouches for, and the token (None without a
    secret: the file still works by path, and intake holds an unsigned copy)."""

    identity: SheetIdentity
    token: str | None

    def rows(self) -> dict[str, str]:
        return {"kind": self.identity.kind, "campaign": self.identity.campaign_id,
                "issued": self.identity.issued, "token": self.token or ""}  # fmt: skip


def write_verification_sheet(
    path: Path,
    items: Iterable[Item],
    unit_names: Mapping[str, str],
    meta: SheetMeta,
    *,
    language: Language,
    zone: ZoneInfo,
    title: str | None = None,
) -> int:
    """Write the claimed ``items`` (in the order given) to ``path``; the number of rows."""
    texts = VERIFY_TEXTS[language]
    with streamed_book(path) as book:
        formats = _formats(book)
        ws = book.add_worksheet(texts.sheet)
        for col, width in enumerate(WIDTHS):
            ws.set_column(col, col, width)
        write_header(ws, texts.columns, formats["header"], language=language)
        ws.freeze_panes(1, 2)
        count = 0
        for count, item in enumerate(items, start=1):
            _write_row(ws, count, item, unit_names, formats, zone, texts.long_term)
        _open_inputs(ws, count, texts, formats)
        ws.protect("", {"autofilter": True, "format_columns": True, "format_rows": True})
        _write_meta(book, meta)
        heading = texts.title.format(campaign=title) if title else texts.bare_title
        created = datetime.combine(date.fromisoformat(meta.identity.issued), time(), tzinfo=UTC)
        book.set_properties({"title": heading, "created": created.replace(tzinfo=None),
                             "comments": "duban"})  # fmt: skip
    return count


def _formats(book: Any) -> dict[str, Any]:
    base = {"valign": "top", "border": 1, "border_color": "#BFBFBF"}
    grey = {**base, "bg_color": _GREY, "locked": True}
    return {
        "header": book.add_format(HEADER_FORMAT),
        "text": book.add_format(grey),
        "quoted": book.add_format({**grey, "quote_prefix": True}),
        "wrap": book.add_format({**grey, "text_wrap": True}),
        "wrap_quoted": book.add_format({**grey, "text_wrap": True, "quote_prefix": True}),
        "date": book.add_format({**grey, "num_format": DATE, "align": "left"}),
        "integer": book.add_format({**grey, "num_format": "0", "align": "center"}),
        "input": book.add_format({**base, "locked": False, "text_wrap": True}),
    }


def _write_row(
    ws: Any,
    row: int,
    item: Item,
    unit_names: Mapping[str, str],
    formats: dict[str, Any],
    zone: ZoneInfo,
    long_term: str,
) -> None:
    claimed = item.claimed_at.astimezone(zone).date() if item.claimed_at else None
    deadline: Any = long_term if item.long_term or item.deadline is None else item.deadline
    cells: list[Any] = [item.code, unit_names.get(item.unit_id, item.unit_id), item.finding,
                        item.measure, deadline, item.evidence, claimed]  # fmt: skip
    lines = wrapped_lines({3: item.finding, 4: item.measure, 6: item.evidence}, _WRAPPED)
    if lines > 1:
        ws.set_row(row, LINE_HEIGHT * lines)
    ws.write_number(row, 0, row, formats["integer"])
    for col, value in enumerate(cells, start=1):
        if value is None:
            ws.write_blank(row, col, None, formats["text"])
        elif isinstance(value, date):
            ws.write_number(row, col, date_serial(value) or 0, formats["date"])
        else:
            wrap = col in (3, 4, 6)
            plain, quoted = ("wrap", "wrap_quoted") if wrap else ("text", "quoted")
            ws.write_string(row, col, value, text_format(value, formats[plain], formats[quoted]))
    for col in (VERDICT, NOTE, REVIEWER):
        ws.write_blank(row, col, None, formats["input"])


def _open_inputs(ws: Any, last: int, texts: Any, formats: dict[str, Any]) -> None:
    """The verdict column's dropdown (the two verdicts, nothing else typed), and a filter."""
    ws.autofilter(0, 0, max(last, 1), len(WIDTHS) - 1)
    if last < 1:
        return
    ws.data_validation(1, VERDICT, last, VERDICT, {
        "validate": "list", "source": [texts.close, texts.give_back],
        "input_message": texts.prompt, "error_type": "stop",
    })  # fmt: skip


def _write_meta(book: Any, meta: SheetMeta) -> None:
    ws = book.add_worksheet(METADATA_SHEET)
    for row, (key, value) in enumerate(meta.rows().items()):
        ws.write_string(row, 0, key)
        ws.write_string(row, 1, value)
    ws.protect()
    ws.very_hidden()
