"""The master template of a form for one deliverable and period, and the per-unit copies.

The master is built once with openpyxl, with placeholders where the unit's id, name and token
go; each unit's copy is the master's zip with those strings patched (``MasterTemplate``), which
is hundreds of times faster than openpyxl per unit (bench/templates.py) and yields files that
differ only in ``xl/sharedStrings.xml``.
"""

from __future__ import annotations

import io
from copy import copy
from dataclasses import dataclass
from typing import Any, Literal, cast

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import columns
from duban.adapters.xlsx.errors import WorkbookError
from duban.adapters.xlsx.layout import LIST_SHEET, METADATA_SHEET, PLACEHOLDERS
from duban.adapters.xlsx.master import MasterTemplate
from duban.adapters.xlsx.metadata import identity_of, read_metadata
from duban.adapters.xlsx.printing import (
    BLANK_GRID_ROWS,
    LINE_HEIGHT,
    print_form_sheet,
    print_instructions,
    wrapped_height,
)
from duban.adapters.xlsx.sharedstrings import externalise_placeholders
from duban.adapters.xlsx.texts import TEXTS, Texts
from duban.model.forms import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    TITLE_ROW,
    Column,
    Form,
    Sheet,
    display_title,
)

__all__ = [
    "MasterTemplate",
    "TemplateContext",
    "build_master",
    "identity_of",
    "read_metadata",
]

_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")  # orange: named in the instructions
_OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")  # blue
_LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP_TOP = Alignment(vertical="top", wrap_text=True)
_UNLOCKED = Protection(locked=False)
_LOCKED = Protection(locked=True)
LOCKED_FILL_RGB = "EDEDED"
"""The light grey of a pre-filled locked cell; ``prefill`` finds the locked twins by it."""
_LOCKED_FILL = PatternFill("solid", fgColor=LOCKED_FILL_RGB)
_FORMULA_START = ("=", "+", "-", "@")
_LABEL_WIDTH, _TEXT_WIDTH = 16, 72  # the instructions' two columns: A4 portrait at 100 %


@dataclass(frozen=True)
class TemplateContext:
    """Everything a template says besides the form; texts arrive formatted for the unit."""

    language: Literal["zh-CN", "en"]
    campaign_id: str
    campaign_title: str
    deliverable_id: str
    deliverable_title: str
    period: str
    due_text: str
    coordinator_name: str
    coordinator_email: str
    coordinator_phone: str | None = None
    template_version: int = 1
    extra_metadata: tuple[tuple[str, str], ...] = ()
    """Rows the hidden metadata sheet carries after its own (a scoresheet's kind, inspection
    and round), for a workbook that is not a unit's duty."""

    def __post_init__(self) -> None:
        if self.language not in TEXTS:
            raise ValueError(f"language must be one of {', '.join(TEXTS)}, not {self.language!r}")
        if type(self.template_version) is not int or self.template_version < 1:
            raise ValueError("template_version must be an int ≥ 1")

    @property
    def texts(self) -> Texts:
        return TEXTS[self.language]

    def printed(self, title: str) -> str:
        """A title as the template shows it (Chinese quotation marks in a Chinese one)."""
        return display_title(title, self.language)


def build_master(form: Form, context: TemplateContext, *, password: str | None = None) -> bytes:
    """The master workbook (xlsx bytes) of ``form`` for one deliverable and period.

    ``password`` protects sheets and structure; without one, protection still stops accidental
    edits of headers and sheet names, which is its purpose (intake re-validates everything).
    Raises ``WorkbookError`` when a form sheet's name collides with one duban needs.
    """
    _check_sheet_names(form, context.texts)
    wb = Workbook()
    instructions = wb.active
    assert isinstance(instructions, Worksheet)
    _fill_instructions(instructions, form, context)
    lists = _ListSheet()
    for sheet in form.sheets:
        _add_data_sheet(wb, sheet, form, context, lists, password)
    lists.write(wb, password)
    _add_metadata_sheet(wb, form, context, password)
    _protect_sheet(instructions.protection, password, allow_format=False)
    wb.security = WorkbookProtection(lockStructure=True)
    if password is not None:
        wb.security.workbookPassword = password
    wb.properties.creator = "duban"
    wb.properties.title = context.printed(context.deliverable_title)
    buffer = io.BytesIO()
    wb.save(buffer)
    master = externalise_placeholders(buffer.getvalue())
    MasterTemplate(master)  # fail here, once, rather than at the first unit
    return master


def _check_sheet_names(form: Form, texts: Texts) -> None:
    reserved = {texts.instructions_sheet, METADATA_SHEET, LIST_SHEET}
    # Excel compares sheet names without regard to case.
    clashes = sorted(
        s.name for s in form.sheets if s.name.casefold() in {r.casefold() for r in reserved}
    )
    if clashes:
        raise WorkbookError(
            f"form {form.id!r}: sheet name {clashes[0]!r} is reserved by duban",
            hint=f"rename that sheet in the campaign file; reserved: {', '.join(sorted(reserved))}",
        )


def put_text(cell: Cell | MergedCell, text: str) -> None:
    """Write ``text`` as a string even when it starts like a formula: openpyxl would otherwise
    store ``=…`` as a live formula, and a quote prefix keeps Excel from doing so on edit."""
    assert isinstance(cell, Cell), f"{cell.coordinate} is inside a merged range"
    cell.value = text
    if cell.data_type != "s":
        cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True


def _fill_instructions(ws: Worksheet, form: Form, context: TemplateContext) -> None:
    texts = context.texts
    ws.title = texts.instructions_sheet
    ws.column_dimensions["A"].width = _LABEL_WIDTH
    ws.column_dimensions["B"].width = _TEXT_WIDTH
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)
    put_text(ws.cell(1, 1), context.printed(context.campaign_title))
    ws.cell(1, 1).font = _TITLE_FONT
    ws.cell(1, 1).alignment = _CENTRE
    ws.row_dimensions[1].height = 36
    rows = [(texts.deliverable, context.printed(context.deliverable_title))]
    if context.period != "once":
        rows.append((texts.period, context.period))
    rows += [
        (texts.unit, PLACEHOLDERS["unit_name"]),
        (texts.deadline, context.due_text),
        (texts.how_to_submit, texts.how_to_submit_text),
        (texts.contact, _contact_text(context)),
        (texts.how_to_fill, texts.how_to_fill_text),
    ]
    row = 2
    for label, value in rows:
        _labelled_row(ws, row, label, value)
        row += 1
    for sheet in form.sheets:
        row = _describe_sheet(ws, row + 1, sheet, texts)
    print_instructions(ws, row - 1, context.language)


def _contact_text(context: TemplateContext) -> str:
    texts = context.texts
    parts = [context.coordinator_name]
    if context.coordinator_phone:
        parts.append(texts.contact_phone.format(phone=context.coordinator_phone))
    parts.append(texts.contact_email.format(email=context.coordinator_email))
    return texts.separator.join(parts)


def _labelled_row(ws: Worksheet, row: int, label: str, value: str, bold: bool = False) -> None:
    head, body = ws.cell(row, 1), ws.cell(row, 2)
    put_text(head, label)
    put_text(body, value)
    head.font = _BOLD
    head.fill = _LABEL_FILL
    head.alignment = _WRAP_TOP
    body.alignment = _WRAP_TOP
    if bold:
        body.font = _BOLD
    head.border = body.border = _BOX
    height = max(wrapped_height(label, _LABEL_WIDTH), wrapped_height(value, _TEXT_WIDTH))
    if height > LINE_HEIGHT:
        ws.row_dimensions[row].height = height


def _describe_sheet(ws: Worksheet, row: int, sheet: Sheet, texts: Texts) -> int:
    """One heading row for the sheet, then a row per column; returns the next free row."""
    rows_text = texts.sheet_rows.format(first=FIRST_DATA_ROW, max=sheet.max_rows)
    if sheet.min_rows:
        rows_text += texts.sheet_min_rows.format(min=sheet.min_rows)
    _labelled_row(ws, row, texts.sheet_heading.format(name=sheet.name), rows_text, bold=True)
    for offset, column in enumerate(sheet.columns, start=1):
        _labelled_row(ws, row + offset, column.label, columns.describe(column, texts))
    return row + len(sheet.columns) + 1


class _ListSheet:
    """Collects choice lists too long for an inline formula; written once all are known."""

    def __init__(self) -> None:
        self.lists: list[list[str]] = []

    def ref(self, choices: list[str]) -> str:
        if choices in self.lists:
            index = self.lists.index(choices)
        else:
            self.lists.append(choices)
            index = len(self.lists) - 1
        letter = get_column_letter(index + 1)
        return f"'{LIST_SHEET}'!${letter}$1:${letter}${len(choices)}"

    def write(self, wb: Workbook, password: str | None) -> None:
        if not self.lists:
            return
        ws = wb.create_sheet(LIST_SHEET)
        for col, choices in enumerate(self.lists, start=1):
            for row, choice in enumerate(choices, start=1):
                put_text(ws.cell(row, col), choice)
        ws.sheet_state = "hidden"
        _protect_sheet(ws.protection, password, allow_format=False)


def _add_data_sheet(
    wb: Workbook,
    sheet: Sheet,
    form: Form,
    context: TemplateContext,
    lists: _ListSheet,
    password: str | None,
) -> None:
    ws = wb.create_sheet(sheet.name)
    texts = context.texts
    _write_title(ws, context.printed(sheet.title or form.title), len(sheet.columns), texts)
    last_row = FIRST_DATA_ROW + sheet.max_rows - 1
    widths = [columns.width(c) for c in sheet.columns]
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        _write_header(ws.cell(HEADER_ROW, index), column)
        _unlock_inputs(ws, index, column, last_row)
        rule = columns.rule(column, lists.ref)
        sqref = f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}"
        ws.add_data_validation(columns.validation(column, texts, rule, sqref))
        ws.column_dimensions[letter].width = widths[index - 1]
    ws.row_dimensions[HEADER_ROW].height = 30
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    print_form_sheet(ws, widths, last_row, context.language)
    _protect_sheet(ws.protection, password, allow_format=True)


def _write_title(ws: Worksheet, title: str, width: int, texts: Texts) -> None:
    cell = ws.cell(TITLE_ROW, 1)
    unit_line = texts.title_unit.format(unit=PLACEHOLDERS["unit_name"])
    put_text(cell, f"{title}\n{unit_line}")
    cell.font = _TITLE_FONT
    cell.alignment = _CENTRE
    if width > 1:
        ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=width)
    ws.row_dimensions[TITLE_ROW].height = 48


def _write_header(cell: Cell | MergedCell, column: Column) -> None:
    put_text(cell, column.label)
    cell.font = _BOLD
    cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
    cell.alignment = _CENTRE
    cell.border = _BOX


def _unlock_inputs(ws: Worksheet, index: int, column: Column, last_row: int) -> None:
    """Unlock and format the input cells of one column: style the first, copy it down (copying
    the style array is several times faster than assigning four style objects per cell).

    Only the first ``BLANK_GRID_ROWS`` are boxed: a border is printed even on an empty cell, so
    boxing every input row would print pages of empty grid; the rows below print with grid
    lines when filled in."""
    first = ws.cell(FIRST_DATA_ROW, index)
    first.protection = _UNLOCKED
    first.number_format = columns.number_format(column)
    first.alignment = _WRAP_TOP
    plain = copy(cast(Any, first)._style)  # openpyxl's documented idiom; stubs omit _style
    first.border = _BOX
    boxed = cast(Any, first)._style
    for row in range(FIRST_DATA_ROW + 1, last_row + 1):
        style = boxed if row < FIRST_DATA_ROW + BLANK_GRID_ROWS else plain
        cast(Any, ws.cell(row, index))._style = copy(style)
    _add_locked_twins(ws, (boxed, plain))


def _add_locked_twins(ws: Worksheet, styles: tuple[Any, ...]) -> None:
    """Register, in the workbook's cell formats, a locked twin of each input style: same number
    format, border and alignment, locked, with a light grey fill. No cell uses them in the
    master; ``duban.adapters.xlsx.prefill`` finds them in ``xl/styles.xml`` (the only formats
    with that fill) and gives them to the cells it pre-fills and locks."""
    wb = cast(Any, ws.parent)
    fill = wb._fills.add(_LOCKED_FILL)
    protection = wb._protections.add(_LOCKED)
    for style in styles:
        twin = copy(style)
        twin.fillId = fill
        twin.protectionId = protection
        wb._cell_styles.add(twin)


def _add_metadata_sheet(
    wb: Workbook, form: Form, context: TemplateContext, password: str | None
) -> None:
    ws = wb.create_sheet(METADATA_SHEET)
    values = {
        "campaign": context.campaign_id,
        "deliverable": context.deliverable_id,
        "period": context.period,
        "unit_id": PLACEHOLDERS["unit_id"],
        "unit_name": PLACEHOLDERS["unit_name"],
        "template_version": str(context.template_version),
        "form_id": form.id,
        "token": PLACEHOLDERS["token"],
        **dict(context.extra_metadata),
    }
    for row, (key, value) in enumerate(values.items(), start=1):
        put_text(ws.cell(row, 1), key)
        put_text(ws.cell(row, 2), value)
    ws.sheet_state = "veryHidden"
    _protect_sheet(ws.protection, password, allow_format=False)


def _protect_sheet(
    protection: SheetProtection, password: str | None, *, allow_format: bool
) -> None:
    """Protect a sheet; on form sheets let units resize, format and insert or delete rows
    (OOXML's flags say what is *locked*, so False allows)."""
    protection.sheet = True
    if allow_format:
        protection.formatCells = False
        protection.formatColumns = False
        protection.formatRows = False
        protection.insertRows = False
        protection.deleteRows = False
    if password is not None:
        protection.password = password
