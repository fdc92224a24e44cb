"""The summary workbook (汇总表) of one deliverable period: overview, units, detail, audit.

Written with xlsxwriter in ``constant_memory`` mode: each row goes to a temporary file as soon as
the next row starts, so half a million detail rows cost no more memory than fifty. The price is
that rows of a sheet must be written in order, which is why the submissions (a stream, consumed
once) are written in one pass and the overview, which reports how many rows were compiled, is
written after them: each sheet has its own temporary file, so sheets may be filled in any order.

Nothing a unit typed ever becomes a formula: every text cell is written with ``write_string``
(``strings_to_formulas`` is off as well, in case a later edit calls ``write``), and text that a
spreadsheet would read as a formula once someone edits the cell (``=``, ``+``, ``-``, ``@``, tab,
carriage return) carries Excel's quote prefix, so pressing Enter in it keeps it text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from duban.adapters.render import format_moment
from duban.adapters.xlsx.streaming import (
    DATE,
    FORMULA_LEADS,
    HEADER_FORMAT,
    LINE_HEIGHT,
    MOMENT,
    date_serial,
    display_width,
    moment_serial,
    print_setup,
    streamed_book,
    text_format,
    unique_sheet_name,
    wrapped_lines,
    write_header,
)
from duban.compile.model import CompileInput, SubmissionData, UnitLine
from duban.compile.rectification import RectificationFigures
from duban.compile.texts import (
    KEY_TASK_TEXTS,
    RECTIFICATION_TEXTS,
    WORKBOOK_TEXTS,
    KeyTaskTexts,
    RectificationTexts,
    WorkbookTexts,
    period_text,
    state_word,
)
from duban.model.forms import Column, Sheet

AUDIT_SHEET = "_duban"
EXCEL_MAX_ROWS = 1_048_576
"""Rows in a worksheet, header included; detail past this continues on a new sheet."""

# Row colours of the units sheet (fill, font): red needs action, amber was late, green is done.
_STATE_COLOURS = {
    "overdue": ("#FFC7CE", "#9C0006"),
    "rejected": ("#FCE4D6", "#843C0C"),
    "late": ("#FFEB9C", "#7F6000"),
    "on-time": ("#E2EFDA", "#375623"),
    "exempted": ("#EDEDED", "#595959"),
}
_PENDING_COLOURS = ("#DDEBF7", "#1F4E78")

# Units sheet order: what the coordinator must chase first, then by unit id. Missing units on
# top is the list a bulletin and a phone call are made from; the autofilter re-sorts by id.
_STATE_RANK = {
    "overdue": 0,
    "rejected": 1,
    "late": 2,
    "due-today": 3,
    "due-soon": 4,
    "extended": 5,
    "not-yet-due": 6,
    "on-time": 7,
    "exempted": 8,
}

# Chart points in the order of the overview's figures, coloured like the units sheet.
_CHART_POINTS = ("on_time", "late", "missing", "rejected")
_CHART_COLOURS = ("#70AD47", "#FFC000", "#C00000", "#ED7D31")


@dataclass(frozen=True)
class SummaryStats:
    """What a compile wrote: for the caller's log and for the ledger's record of the compile.

    ``units`` is the number of unit lines on the units sheet; ``versions_used`` lists, in the
    order written, the (unit id, version, file SHA-256) whose rows make up the detail sheets.
    """

    detail_rows: int
    units: int
    versions_used: list[tuple[str, int, str]]


def write_summary(data: CompileInput, path: Path) -> SummaryStats:
    """Write the summary workbook to ``path``; the file appears only once it is complete.

    It is written beside ``path`` under a hidden name and renamed at the end, so a crash or a
    bad submission half-way through never leaves a truncated 汇总表 that looks finished.
    """
    with streamed_book(path) as book:
        return _write_book(book, data)


def _write_book(book: Any, data: CompileInput) -> SummaryStats:
    texts = WORKBOOK_TEXTS[data.language]
    styles = _Styles(book)
    overview = book.add_worksheet(texts.overview_sheet)
    units = book.add_worksheet(texts.units_sheet)
    taken = {texts.overview_sheet, texts.units_sheet, AUDIT_SHEET}
    if data.rectification is not None:
        words = RECTIFICATION_TEXTS[data.language]
        _write_rectification(book.add_worksheet(words.sheet), data.rectification, styles, words,
                             texts.tag_separator)  # fmt: skip
        taken.add(words.sheet)
    if data.key_tasks is not None:
        key_words = KEY_TASK_TEXTS[data.language]
        _write_key_tasks(book.add_worksheet(key_words.sheet), data, styles, key_words)
        taken.add(key_words.sheet)
    details = [
        _DetailSheet(book, styles, name, sheet, texts)
        for name, sheet in _detail_names(data.form.sheets, texts, taken)
    ]
    _write_units(units, data, styles, texts)
    used, rows = _write_details(details, data, styles)
    stats = SummaryStats(detail_rows=rows, units=len(data.units), versions_used=used)
    _write_overview(book, overview, data, styles, texts, stats)
    _write_audit(book.add_worksheet(AUDIT_SHEET), data, stats, styles)
    _set_properties(book, data, texts, stats)
    return stats


class _Styles:
    """Every cell format, made once: xlsxwriter formats are workbook-wide objects."""

    def __init__(self, book: Any) -> None:
        self.title = book.add_format({"bold": True, "font_size": 16, "valign": "vcenter"})
        self.label = book.add_format({"bold": True, "font_color": "#404040"})
        self.header = book.add_format(HEADER_FORMAT)
        self.quoted = book.add_format({"quote_prefix": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        # "Fill" alignment clips a long text at its cell's edge instead of spilling past the
        # last column (and the print area): the hash column stays narrow on paper.
        self.clipped = book.add_format({"align": "fill", "font_color": "#7F7F7F"})
        self.date = book.add_format({"num_format": DATE})
        self.moment = book.add_format({"num_format": MOMENT})
        self.integer = book.add_format({"num_format": "0"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.by_state: dict[str, dict[str, Any]] = {}
        for state, colours in [*_STATE_COLOURS.items(), ("pending", _PENDING_COLOURS)]:
            self.by_state[state] = self._state_formats(book, *colours)

    @staticmethod
    def _state_formats(book: Any, fill: str, font: str) -> dict[str, Any]:
        base = {"bg_color": fill, "font_color": font, "border": 1, "border_color": "#BFBFBF"}
        return {
            "text": book.add_format(base),
            "quoted": book.add_format({**base, "quote_prefix": True}),
            "moment": book.add_format({**base, "num_format": MOMENT}),
            "integer": book.add_format({**base, "num_format": "0"}),
        }

    def for_state(self, state: str) -> dict[str, Any]:
        return self.by_state.get(state, self.by_state["pending"])


# ---------------------------------------------------------------------------------- values


def _number(value: Any) -> int | float | None:
    """A form number as Excel stores it; decimals arrive as text (exact) and become floats."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal | str):
        try:
            exact = Decimal(value) if not isinstance(value, Decimal) else value
        except (InvalidOperation, ValueError):
            return None
        if not exact.is_finite():
            return None
        return int(exact) if exact == exact.to_integral_value() else float(exact)
    return None


# ----------------------------------------------------------------------------- units sheet


def _write_units(ws: Any, data: CompileInput, styles: _Styles, texts: WorkbookTexts) -> None:
    widths = (10, 28, 16, 14, 18, 18, 9, 18, 8, 10)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    write_header(ws, texts.unit_columns, styles.header)
    ordered = sorted(data.units, key=lambda u: (_STATE_RANK.get(u.state, 9), u.unit_id))
    for row, unit in enumerate(ordered, start=1):
        _unit_row(ws, row, unit, data, styles.for_state(unit.state), texts)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(len(ordered), 1), len(widths) - 1)


def _write_rectification(
    ws: Any,
    figures: RectificationFigures,
    styles: _Styles,
    words: RectificationTexts,
    separator: str,
) -> None:
    """整改情况: each roster unit's items and rates (a rate with nothing under it is "—"),
    then the total row; the same figures as the bulletin's section."""
    for col, width in enumerate((10, 28, 16, 10, 10, 10, 12, 12, 12)):
        ws.set_column(col, col, width)
    write_header(ws, words.sheet_columns, styles.header)
    rows = [(u.unit_id, u.unit_name, separator.join(u.tags), u.counts) for u in figures.units]
    rows.append((words.total, "", "", figures.total))
    for row, (unit_id, name, tags, c) in enumerate(rows, start=1):
        for col, text in enumerate((unit_id, name, tags)):
            ws.write_string(row, col, text, text_format(text, None, styles.quoted))
        for col, count in enumerate((c.found, c.closed, c.closed_on_time, c.overdue), start=3):
            ws.write_number(row, col, count, styles.integer)
        for col, rate in enumerate((c.closure_rate, c.on_time_rate), start=7):
            if rate is None:
                ws.write_string(row, col, "—")
            else:
                ws.write_number(row, col, rate, styles.percent)
    ws.freeze_panes(1, 2)


def _write_key_tasks(ws: Any, data: CompileInput, styles: _Styles, words: KeyTaskTexts) -> None:
    """重点工作推进情况: per key task, one row per unit of its chain (the lead, then the
    partners), coloured by state like the units sheet; the units holding the task up marked."""
    for col, width in enumerate((30, 6, 10, 24, 17, 17, 14, 10)):
        ws.set_column(col, col, width)
    write_header(ws, words.sheet_columns, styles.header)
    row = 0
    for task in data.key_tasks or ():
        for unit in task.units:
            row += 1
            f = styles.for_state(unit.state.value)
            texts = (task.task.title, words.roles[unit.role], unit.unit_id, unit.name,
                     _due_cell(unit.due_at, data))  # fmt: skip
            for col, text in enumerate(texts):
                ws.write_string(row, col, text, text_format(text, f["text"], f["quoted"]))
            if unit.received_at is None:
                ws.write_blank(row, 5, None, f["text"])
            else:
                ws.write_number(row, 5, moment_serial(unit.received_at, data.zone), f["moment"])
            ws.write_string(row, 6, state_word(unit.state.value, data.language), f["text"])
            if task.holds(unit):
                ws.write_string(row, 7, words.holding, f["text"])
            else:
                ws.write_blank(row, 7, None, f["text"])
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(row, 1), len(words.sheet_columns) - 1)


def _unit_row(
    ws: Any, row: int, unit: UnitLine, data: CompileInput, f: dict[str, Any], texts: WorkbookTexts
) -> None:
    cells: list[tuple[str, Any]] = [
        ("text", unit.unit_id),
        ("text", unit.unit_name),
        ("text", texts.tag_separator.join(unit.tags)),
        ("text", state_word(unit.state, data.language)),
        ("text", _due_cell(unit.due_at, data)),
        ("moment", unit.first_valid_at),
        ("integer", unit.latest_version),
        ("moment", unit.latest_received_at),
        ("integer", unit.versions),
        ("integer", unit.late_working_days),
    ]
    for col, (kind, value) in enumerate(cells):
        if value is None or value == "":
            ws.write_blank(row, col, None, f["text"])
        elif kind == "text":
            ws.write_string(row, col, value, text_format(value, f["text"], f["quoted"]))
        elif kind == "moment":
            ws.write_number(row, col, moment_serial(value, data.zone), f["moment"])
        else:
            ws.write_number(row, col, value, f["integer"])


def _due_cell(due_at: datetime, data: CompileInput) -> str:
    """The due moment as text: a due of midnight shows as 24:00 of the due day, not 00:00 of
    the next, which is how a deadline is written and read (截止时间 2026-03-05 24:00)."""
    local = due_at.astimezone(data.zone)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        day = date.fromordinal(local.date().toordinal() - 1)
        return f"{day.isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------- detail sheets


def _detail_names(
    sheets: Sequence[Sheet], texts: WorkbookTexts, taken: set[str]
) -> Iterator[tuple[str, Sheet]]:
    """One detail sheet per form sheet: 明细 alone, or 明细-<sheet> when the form has several."""
    for sheet in sheets:
        base = texts.detail_sheet if len(sheets) == 1 else f"{texts.detail_sheet}-{sheet.name}"
        yield unique_sheet_name(base, taken), sheet


_CellWriter = Callable[[Any, int, int, Any], None]


class _DetailSheet:
    """The rows of one form sheet, continued on a new worksheet when Excel's row limit is
    reached (xlsxwriter would otherwise drop the extra rows silently).

    A row reads as the unit and its answers: unit id, name and version first, the form's
    columns next, and where it came from (received time, file hash) last, in narrow columns,
    so the printed page shows what units said rather than hashes.
    """

    LEAD_WIDTHS = (9, 16, 5)
    TAIL_WIDTHS = (16, 9)

    def __init__(
        self, book: Any, styles: _Styles, name: str, sheet: Sheet, texts: WorkbookTexts
    ) -> None:
        self.book, self.styles, self.name, self.sheet, self.texts = book, styles, name, sheet, texts
        self.writers = [(c.key, _column_writer(c, styles)) for c in sheet.columns]
        self.wrapped = [(c.key, _column_width(c) - 1) for c in sheet.columns if _wraps(c)]
        self.tail = len(self.LEAD_WIDTHS) + len(self.writers)
        self.parts: list[tuple[Any, int]] = []
        self.ws: Any = None
        self.row = 0
        self._open(name)

    def _open(self, name: str) -> None:
        if self.ws is not None:
            self.parts.append((self.ws, self.row))
        ws = self.book.add_worksheet(name)
        answers = [_column_width(c) for c in self.sheet.columns]
        for col, (column, width) in enumerate(zip(self.sheet.columns, answers, strict=True), 3):
            ws.set_column(col, col, width, self.styles.wrap if _wraps(column) else None)
        for col, width in enumerate(self.LEAD_WIDTHS):
            ws.set_column(col, col, width)
        for col, width in enumerate(self.TAIL_WIDTHS, start=self.tail):
            ws.set_column(col, col, width)
        lead, tail = self.texts.detail_lead_columns, self.texts.detail_tail_columns
        write_header(ws, [*lead, *(c.label for c in self.sheet.columns), *tail], self.styles.header)
        ws.freeze_panes(1, 2)
        self.ws, self.row = ws, 0

    def _continue(self) -> None:
        taken = {w.get_name() for w in self.book.worksheets()} | {AUDIT_SHEET}
        n = len(self.parts) + 2
        self._open(unique_sheet_name(self.texts.continued.format(name=self.name, n=n), taken))

    def add(self, source: _Source, rows: Iterable[dict[str, Any]]) -> int:
        """Write one submission's rows of this sheet; the hot loop of a compile."""
        count = 0
        moment, integer, tail = self.styles.moment, self.styles.integer, self.tail
        for values in rows:
            if self.row >= EXCEL_MAX_ROWS - 1:
                self._continue()
            self.row += 1
            r, ws = self.row, self.ws
            lines = wrapped_lines(values, self.wrapped)
            if lines > 1:
                ws.set_row(r, LINE_HEIGHT * lines)
            ws.write_string(r, 0, source.unit_id, source.id_format)
            ws.write_string(r, 1, source.unit_name, source.name_format)
            ws.write_number(r, 2, source.version, integer)
            for col, (key, writer) in enumerate(self.writers, start=3):
                value = values.get(key)
                if value is not None:
                    writer(ws, r, col, value)
            ws.write_number(r, tail, source.received, moment)
            ws.write_string(r, tail + 1, source.sha256, self.styles.clipped)
            count += 1
        return count

    def finish(self) -> None:
        """Filters over every column; the print area stops before the file hash, which is
        for tracing a row on screen, not for paper (its 64 characters would also make the
        page scale down to fit them, as LibreOffice counts text running past its cell)."""
        for ws, last in [*self.parts, (self.ws, self.row)]:
            ws.autofilter(0, 0, max(last, 1), self.tail + len(self.TAIL_WIDTHS) - 1)
            ws.print_area(0, 0, max(last, 1), self.tail)


@dataclass(frozen=True)
class _Source:
    """The source columns of one submission, converted once for all of its rows."""

    unit_id: str
    unit_name: str
    version: int
    received: float
    sha256: str
    id_format: Any
    name_format: Any


def _write_details(
    details: list[_DetailSheet], data: CompileInput, styles: _Styles
) -> tuple[list[tuple[str, int, str]], int]:
    """Consume the submissions once (they may be a stream), writing every row of every sheet.

    A unit appearing twice would have its rows counted twice, so it stops the compile.
    """
    used: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    rows = 0
    for submission in data.submissions:
        if submission.unit_id in seen:
            raise ValueError(f"unit {submission.unit_id} has two submissions in one compile")
        seen.add(submission.unit_id)
        used.append((submission.unit_id, submission.version, submission.sha256))
        source = _source(submission, data.zone, styles.quoted)
        for detail in details:
            rows += detail.add(source, submission.rows.get(detail.sheet.name, ()))
    for detail in details:
        detail.finish()
    return used, rows


def _source(submission: SubmissionData, zone: ZoneInfo, quoted: Any) -> _Source:
    return _Source(
        unit_id=submission.unit_id,
        unit_name=submission.unit_name,
        version=submission.version,
        received=moment_serial(submission.received_at, zone),
        sha256=submission.sha256,
        id_format=text_format(submission.unit_id, None, quoted),
        name_format=text_format(submission.unit_name, None, quoted),
    )


def _column_writer(column: Column, styles: _Styles) -> _CellWriter:
    """How one form column's values are written: numbers and dates as such, the rest as text.

    A value that does not convert (a form changed after units replied) is kept as text rather
    than lost, so the detail always shows what the unit sent.
    """
    quoted = styles.quoted

    def text(ws: Any, r: int, c: int, value: Any) -> None:
        s = value if isinstance(value, str) else str(value)
        if s[:1] in FORMULA_LEADS:
            ws.write_string(r, c, s, quoted)
        else:
            ws.write_string(r, c, s)

    def number(fmt: Any) -> _CellWriter:
        def write(ws: Any, r: int, c: int, value: Any) -> None:
            converted = _number(value)
            if converted is None:
                text(ws, r, c, value)
            else:
                ws.write_number(r, c, converted, fmt)

        return write

    cache: dict[Any, int | None] = {}

    def day(ws: Any, r: int, c: int, value: Any) -> None:
        serial = cache.get(value, -1)
        if serial == -1:
            serial = cache[value] = date_serial(value)
        if serial is None:
            text(ws, r, c, value)
        else:
            ws.write_number(r, c, serial, styles.date)

    if column.type == "integer":
        return number(styles.integer)
    if column.type == "decimal":
        return number(None)
    if column.type == "date":
        return day
    return text


def _wraps(column: Column) -> bool:
    """Text answers wrap in their column; numbers, dates and choices fit on one line."""
    return column.type in ("text", "email")


def _column_width(column: Column) -> float:
    """The form's width, at most 30 characters: longer answers wrap, so the detail still
    prints one page wide at a readable size."""
    if column.width is not None:
        return min(30, column.width)
    if column.type == "date":
        return 12
    if column.type in ("integer", "decimal"):
        return max(10, display_width(column.label) + 2)
    return min(30, max(12, display_width(column.label) + 2))


# ------------------------------------------------------------------------------- overview


def _write_overview(
    book: Any,
    ws: Any,
    data: CompileInput,
    styles: _Styles,
    texts: WorkbookTexts,
    stats: SummaryStats,
) -> None:
    print_setup(ws, header=False)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 36)
    title = texts.title.format(campaign=data.campaign_title, deliverable=data.deliverable_title)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 7, "", styles.title)
    ws.write_string(0, 0, title, styles.title)
    facts = [
        (texts.campaign, data.campaign_title),
        (texts.deliverable, data.deliverable_title),
        (texts.period, period_text(data.period, data.language)),
        (texts.due, data.due_text),
        (texts.as_of, format_moment(data.as_of, data.zone, data.language)),
    ]
    for row, (label, value) in enumerate(facts, start=2):
        ws.write_string(row, 0, label, styles.label)
        ws.write_string(row, 1, value, text_format(value, None, styles.quoted))
    first = _write_figures(ws, 8, data, styles, texts, stats)
    _insert_chart(book, ws, first, texts)


def _write_figures(
    ws: Any, top: int, data: CompileInput, styles: _Styles, texts: WorkbookTexts, s: SummaryStats
) -> int:
    """The figures table; returns the row of the first charted figure (on time)."""
    t = data.totals
    counts = [
        (texts.expected, t.expected),
        (texts.received, t.received),
        (texts.on_time, t.on_time),
        (texts.late, t.late),
        (texts.missing, t.missing),
        (texts.rejected, t.rejected),
        (texts.pending, t.pending),
        (texts.exempted, t.exempted),
    ]
    ws.write_string(top, 0, texts.item, styles.header)
    ws.write_string(top, 1, texts.count, styles.header)
    row = top
    for label, count in counts:
        row += 1
        ws.write_string(row, 0, label, styles.label)
        ws.write_number(row, 1, count, styles.integer)
    for label, rate in ((texts.completeness, t.completeness), (texts.timeliness, t.timeliness)):
        row += 1
        ws.write_string(row, 0, label, styles.label)
        if rate is None:
            ws.write_string(row, 1, "—")
        else:
            ws.write_number(row, 1, rate, styles.percent)
    row += 2
    ws.write_string(row, 0, texts.detail_rows, styles.label)
    ws.write_number(row, 1, s.detail_rows, styles.integer)
    ws.write_string(row + 1, 0, texts.units_compiled, styles.label)
    ws.write_number(row + 1, 1, len(s.versions_used), styles.integer)
    return top + 3


def _insert_chart(book: Any, ws: Any, first: int, texts: WorkbookTexts) -> None:
    """A native column chart of on time / late / missing / rejected, from the figures cells,
    so it stays right if someone corrects a figure by hand."""
    chart = book.add_chart({"type": "column"})
    last = first + len(_CHART_POINTS) - 1
    name = ws.get_name()
    chart.add_series(
        {
            "name": texts.chart_title,
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 1, last, 1],
            "points": [{"fill": {"color": c}} for c in _CHART_COLOURS],
            "data_labels": {"value": True},
            "gap": 60,
        }
    )
    chart.set_title({"name": texts.chart_title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True}})
    ws.insert_chart(2, 3, chart, {"x_scale": 1.1, "y_scale": 1.2})


# ------------------------------------------------------------------------ audit and props


def _write_audit(ws: Any, data: CompileInput, stats: SummaryStats, styles: _Styles) -> None:
    """A hidden sheet naming the exact files compiled, so a figure can be traced to a version."""
    facts = [
        ("campaign", data.campaign_id),
        ("deliverable", data.deliverable_id),
        ("period", data.period),
        ("as_of", data.as_of.astimezone(UTC).isoformat()),
        ("form", data.form.id),
        ("form_version", str(data.form.version)),
        ("detail_rows", str(stats.detail_rows)),
        ("units", str(stats.units)),
        ("versions_sha256", versions_digest(stats.versions_used)),
    ]
    ws.set_column(0, 0, 16)
    ws.set_column(2, 2, 66)
    for row, (key, value) in enumerate(facts):
        ws.write_string(row, 0, key)
        ws.write_string(row, 1, value)
    top = len(facts) + 1
    for col, label in enumerate(("unit_id", "version", "sha256")):
        ws.write_string(top, col, label, styles.header)
    for row, (unit_id, version, sha256) in enumerate(stats.versions_used, start=top + 1):
        ws.write_string(row, 0, unit_id)
        ws.write_number(row, 1, version)
        ws.write_string(row, 2, sha256)
    ws.hide()


def versions_digest(versions: Iterable[tuple[str, int, str]]) -> str:
    """One SHA-256 over the sorted (unit, version, file) triples: two compiles from the same
    versions share it, whatever the order the submissions came in."""
    lines = sorted(f"{u}\t{v}\t{s}\n" for u, v, s in versions)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _set_properties(book: Any, data: CompileInput, texts: WorkbookTexts, s: SummaryStats) -> None:
    """Document properties from the input, not the clock: the same input gives the same file."""
    created = data.as_of.astimezone(UTC).replace(tzinfo=None)
    book.set_properties(
        {
            "title": texts.title.format(
                campaign=data.campaign_title, deliverable=data.deliverable_title
            ),
            "subject": f"{data.deliverable_id} {data.period}",
            "author": data.coordinator_name,
            "company": data.coordinator_name,
            "created": created,
            "comments": "duban",
        }
    )
    book.set_custom_property("duban.model.campaign", data.campaign_id)
    book.set_custom_property("duban.deliverable", data.deliverable_id)
    book.set_custom_property("duban.period", data.period)
    book.set_custom_property("duban.as_of", data.as_of.astimezone(UTC).isoformat())
    book.set_custom_property("duban.versions", len(s.versions_used))
    book.set_custom_property("duban.versions_sha256", versions_digest(s.versions_used))
