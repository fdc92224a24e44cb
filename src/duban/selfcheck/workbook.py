"""The rectification ledger workbook (整改台账): every item, one sheet per roster tag, the
overdue ones on a sheet of their own, and a summary of closure rates per tag first.

Written by streaming, as the summary workbook is (``duban.adapters.xlsx.streaming``): the items
are an iterable consumed once, each row goes to its sheets' temporary files as it comes, so
200,000 items cost about the memory of 200. The summary, which needs every item counted, is
the first sheet but is filled last. A unit's items appear on the sheet of each of its tags;
items of units with no tag, or of units no longer on the roster, on a sheet of their own.

The columns are those offices keep by hand (序号, 问题类别, 问题描述, 整改措施, 责任单位, 责任人,
整改时限, 整改进展, 完成情况, 销号时间) with the item's code after the number, which is what units
and the coordinator quote. Deadlines and closing days are dates; a long-term item's deadline
reads 长期坚持, as does its state while it is open. Overdue, closed and cancelled rows are
coloured; every sheet has its header frozen, a filter over its columns, and prints on A4
landscape one page wide with the header on every page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from duban.adapters.xlsx.streaming import (
    DATE,
    HEADER_FORMAT,
    LINE_HEIGHT,
    date_serial,
    print_setup,
    streamed_book,
    text_format,
    unique_sheet_name,
    wrapped_lines,
    write_header,
)
from duban.model.campaign import Language
from duban.model.roster import Unit
from duban.selfcheck.items import Item
from duban.selfcheck.rates import Counts, Rules, count_item
from duban.selfcheck.states import OPEN_STATES, State
from duban.selfcheck.texts import LEDGER_TEXTS

EXCEL_MAX_ROWS = 1_048_576
"""Rows in a worksheet, header included; a sheet past it continues on a new one."""

WIDTHS = (5, 13, 10, 30, 30, 16, 9, 11, 24, 10, 11)
"""Column widths in characters (a CJK character counts two), in the order of the columns."""
WRAPPED = (3, 4, 5, 8)
"""Columns whose text wraps: finding, measure, unit, progress."""
_WRAP_WIDTHS = [(col, WIDTHS[col] - 1) for col in WRAPPED]
_DATE_COLUMNS = frozenset({7, 10})

# Row colours (fill, font): red is overdue, blue awaits verification, green is closed.
_TONES: dict[str, tuple[str, str] | None] = {
    "plain": None,
    "overdue": ("#FFC7CE", "#9C0006"),
    "claimed": ("#DDEBF7", "#1F4E78"),
    "closed": ("#E2EFDA", "#375623"),
    "cancelled": ("#EDEDED", "#595959"),
}


@dataclass(frozen=True)
class LedgerStats:
    """What was written: items (each once, whatever its tags), rows over the tag sheets, the
    overdue items, the sheets in order, and the counts per tag and for the whole campaign."""

    items: int
    rows: int
    overdue: int
    sheets: tuple[str, ...]
    by_tag: dict[str, Counts]
    total: Counts


def write_rectification_ledger(
    path: Path,
    items: Iterable[Item],
    units: Iterable[Unit],
    *,
    rules: Rules,
    language: Language = "zh-CN",
    title: str | None = None,
) -> LedgerStats:
    """Write the 整改台账 of ``items`` (consumed once, in the order given: by unit and number,
    as ``ledger.list_items`` returns them) to ``path``; the file appears only once complete.

    ``units`` is the roster (names and tags); ``rules`` the day the ledger is as of and how
    overdue is decided (``rates.Rules``); ``title`` the campaign's, for the summary's heading.
    """
    with streamed_book(path) as book:
        return _Writer(book, list(units), rules, language, title).write(items)


class _Formats:
    """Every cell format, made once per tone: xlsxwriter formats are workbook-wide."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format(HEADER_FORMAT)
        self.title = book.add_format({"bold": True, "font_size": 16, "valign": "vcenter"})
        self.label = book.add_format({"bold": True, "font_color": "#404040"})
        self.integer = book.add_format({"num_format": "0"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.date = book.add_format({"num_format": DATE, "align": "left"})
        self.tones = {tone: self._tone(book, colours) for tone, colours in _TONES.items()}

    @staticmethod
    def _tone(book: Any, colours: tuple[str, str] | None) -> dict[str, Any]:
        base: dict[str, Any] = {"valign": "top", "border": 1, "border_color": "#BFBFBF"}
        if colours is not None:
            base |= {"bg_color": colours[0], "font_color": colours[1]}
        wrap = {**base, "text_wrap": True}
        return {
            "text": book.add_format(base),
            "quoted": book.add_format({**base, "quote_prefix": True}),
            "wrap": book.add_format(wrap),
            "wrap_quoted": book.add_format({**wrap, "quote_prefix": True}),
            "date": book.add_format({**base, "num_format": DATE, "align": "left"}),
            "integer": book.add_format({**base, "num_format": "0", "align": "center"}),
        }


class _ItemSheet:
    """The rows of one group (a tag, the overdue items, the untagged), continued on a new
    worksheet when Excel's row limit is reached (xlsxwriter would drop the rows silently)."""

    def __init__(self, writer: _Writer, name: str) -> None:
        self.writer, self.name = writer, name
        self.parts: list[tuple[Any, int]] = []
        self.ws: Any = None
        self.row = 0
        self.count = 0
        self._open(name)

    def _open(self, name: str) -> None:
        if self.ws is not None:
            self.parts.append((self.ws, self.row))
        ws = self.writer.book.add_worksheet(name)
        for col, width in enumerate(WIDTHS):
            ws.set_column(col, col, width)
        texts = self.writer.texts
        write_header(ws, texts.columns, self.writer.formats.header, language=self.writer.language)
        ws.freeze_panes(1, 2)
        self.ws, self.row = ws, 0

    def add(self, cells: list[Any], tone: dict[str, Any], height: float | None) -> None:
        if self.row >= EXCEL_MAX_ROWS - 1:
            n = len(self.parts) + 2
            self._open(self.writer.name(self.writer.texts.continued.format(name=self.name, n=n)))
        self.row += 1
        self.count += 1
        r, ws = self.row, self.ws
        if height is not None:
            ws.set_row(r, height)
        ws.write_number(r, 0, self.count, tone["integer"])
        for col, value in enumerate(cells, start=1):
            if value is None:
                ws.write_blank(r, col, None, tone["text"])
            elif col in _DATE_COLUMNS and isinstance(value, int):
                ws.write_number(r, col, value, tone["date"])
            else:
                plain, quoted = _TEXT_FORMATS[col in WRAPPED]
                ws.write_string(r, col, value, text_format(value, tone[plain], tone[quoted]))

    def finish(self) -> None:
        for ws, last in [*self.parts, (self.ws, self.row)]:
            ws.autofilter(0, 0, max(last, 1), len(WIDTHS) - 1)


class _Writer:
    def __init__(
        self,
        book: Any,
        units: list[Unit],
        rules: Rules,
        language: Language,
        title: str | None,
    ) -> None:
        self.book, self.rules, self.language, self.title = book, rules, language, title
        self.texts = texts = LEDGER_TEXTS[language]
        self.formats = _Formats(book)
        self.taken: set[str] = set()
        self.names = {u.id: u.name for u in units}
        self.tags_of = {u.id: tuple(dict.fromkeys(u.tags)) for u in units}
        self.tags = sorted({t for ts in self.tags_of.values() for t in ts})
        self.summary = book.add_worksheet(self.name(texts.summary_sheet))
        self.by_tag = {tag: _ItemSheet(self, self.name(tag)) for tag in self.tags}
        self.untagged: _ItemSheet | None = None
        if any(not ts for ts in self.tags_of.values()):
            self.untagged = _ItemSheet(self, self.name(texts.untagged_sheet))
        self.overdue = _ItemSheet(self, self.name(texts.overdue_sheet))

    def name(self, wanted: str) -> str:
        return unique_sheet_name(wanted, self.taken)

    def write(self, items: Iterable[Item]) -> LedgerStats:
        per_unit: dict[str, Counts] = {}
        total, written, rows = Counts(), 0, 0
        for item in items:
            counted = count_item(item, self.rules)
            per_unit[item.unit_id] = per_unit.get(item.unit_id, Counts()) + counted
            total += counted
            written += 1
            cells, tone, height = self._row(item, overdue=bool(counted.overdue))
            for sheet in self._sheets_of(item.unit_id):
                sheet.add(cells, tone, height)
                rows += 1
            if counted.overdue:
                self.overdue.add(cells, tone, height)
        groups = [*self.by_tag.values(), self.overdue]
        if self.untagged is not None:
            groups.append(self.untagged)
        for sheet in groups:
            sheet.finish()
        by_tag = {tag: Counts() for tag in self.tags}
        for unit_id, counted in per_unit.items():
            for tag in self.tags_of.get(unit_id, ()):
                by_tag[tag] += counted
        untagged = None
        if self.untagged is not None:
            no_tag = [c for u, c in per_unit.items() if not self.tags_of.get(u)]
            untagged = sum(no_tag, Counts())
        self._write_summary(by_tag, untagged, total)
        self._set_properties()
        sheets = tuple(ws.get_name() for ws in self.book.worksheets())
        return LedgerStats(written, rows, self.overdue.count, sheets, by_tag, total)

    def _sheets_of(self, unit_id: str) -> list[_ItemSheet]:
        tags = self.tags_of.get(unit_id, ())
        if tags:
            return [self.by_tag[t] for t in tags]
        if self.untagged is None:  # a unit no longer on the roster, and the first such
            self.untagged = _ItemSheet(self, self.name(self.texts.untagged_sheet))
        return [self.untagged]

    def _row(self, item: Item, *, overdue: bool) -> tuple[list[Any], dict[str, Any], float | None]:
        """The cells after 序号, the row's formats and its height (None: the default)."""
        texts = self.texts
        state = State(item.state)
        unit = self.names.get(item.unit_id, item.unit_id)
        if item.long_term and state in OPEN_STATES - {State.CLAIMED}:
            status = texts.long_term
        else:
            status = texts.states[state]
        deadline: Any = texts.long_term if item.long_term else date_serial(item.deadline)
        closed = None
        if item.closed_at is not None and state == State.CLOSED:
            closed = date_serial(item.closed_at.astimezone(self.rules.zone).date())
        cells = [item.code, item.category, item.finding, item.measure, unit, item.owner,
                 deadline, item.progress, status, closed]  # fmt: skip
        tone = "overdue" if overdue else _TONE_OF.get(state, "plain")
        values = {3: item.finding, 4: item.measure, 5: unit, 8: item.progress}
        lines = wrapped_lines(values, _WRAP_WIDTHS)
        return cells, self.formats.tones[tone], LINE_HEIGHT * lines if lines > 1 else None

    def _write_summary(
        self, by_tag: dict[str, Counts], untagged: Counts | None, total: Counts
    ) -> None:
        ws, f, texts = self.summary, self.formats, self.texts
        print_setup(ws, header=False, language=self.language)
        ws.set_column(0, 0, 22)
        ws.set_column(1, len(texts.summary_columns) - 1, 12)
        title = texts.title.format(campaign=self.title) if self.title else texts.bare_title
        ws.set_row(0, 30)
        ws.write_string(0, 0, title, f.title)
        ws.write_string(1, 0, texts.as_of, f.label)
        ws.write_number(1, 1, date_serial(self.rules.day) or 0, f.date)
        top = 3
        ws.set_row(top, 30)
        for col, label in enumerate(texts.summary_columns):
            ws.write_string(top, col, label, f.header)
        lines = list(by_tag.items())
        if untagged is not None:
            lines.append((texts.untagged_sheet, untagged))
        lines.append((texts.total, total))
        for row, (label, counted) in enumerate(lines, start=top + 1):
            bold = label == texts.total and row == top + len(lines)
            ws.write_string(row, 0, label, f.label if bold else text_format(label, None, None))
            figures = (counted.found, counted.closed, counted.open, counted.overdue,
                       counted.cancelled)  # fmt: skip
            for col, figure in enumerate(figures, start=1):
                ws.write_number(row, col, figure, f.integer)
            for col, rate in enumerate((counted.closure_rate, counted.on_time_rate), start=6):
                if rate is None:
                    ws.write_string(row, col, texts.no_rate)
                else:
                    ws.write_number(row, col, rate, f.percent)

    def _set_properties(self) -> None:
        """From the input, not the clock: the same items on the same day give the same file."""
        texts = self.texts
        title = texts.title.format(campaign=self.title) if self.title else texts.bare_title
        created = datetime.combine(self.rules.day, time(), tzinfo=UTC).replace(tzinfo=None)
        self.book.set_properties({"title": title, "created": created, "comments": "duban"})
        self.book.set_custom_property("duban.as_of", self.rules.day.isoformat())


_TEXT_FORMATS = {False: ("text", "quoted"), True: ("wrap", "wrap_quoted")}
_TONE_OF = {State.CLAIMED: "claimed", State.CLOSED: "closed", State.CANCELLED: "cancelled"}
