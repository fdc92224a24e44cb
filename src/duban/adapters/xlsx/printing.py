"""How a template prints: units print the instructions to read and the filled sheet to sign.

Every sheet is set for A4, one page wide (the height follows the rows), centred, with page
numbers in the footer. A form sheet repeats its header row on every page and is printed in
landscape when its columns are too wide for portrait. The print area of a form sheet is its
columns down to its last input row, so the hidden sheets and anything typed beside the form
stay off paper; pages with nothing in them are not printed (the spreadsheet programs' default),
so an empty template prints as one page with its title, header and blank grid, and a filled
one as many as its rows take, the header on each (the input rows below the grid carry no
border, which would otherwise make every page of them non-empty).
"""

from __future__ import annotations

import math

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx.columns import display_width
from duban.adapters.xlsx.streaming import A4, PAGE_FOOTER
from duban.model.forms import HEADER_ROW

PORTRAIT_WIDTH = 95.0
"""Column widths (in characters) that fit A4 portrait at about 90 %: wider sheets go landscape,
where fitting one page wide shrinks them less than portrait would."""
BLANK_GRID_ROWS = 20
"""Bordered input rows of a template: a blank grid that fits the first page; rows beyond it are
input cells too (unlocked, validated), printed with grid lines once something is typed."""
LINE_HEIGHT = 15.0
"""Points per line of 11 pt text, CJK included."""


def fit_to_width(ws: Worksheet, *, landscape: bool, language: str) -> None:
    """A4, one page wide, as many pages tall as the rows need, page numbers at the foot."""
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    footer = ws.oddFooter
    assert footer is not None  # openpyxl makes a footer and each of its parts
    assert footer.center is not None
    footer.center.text = PAGE_FOOTER.get(language, PAGE_FOOTER["en"])


def print_form_sheet(ws: Worksheet, widths: list[float], last_row: int, language: str) -> None:
    """A form sheet: its columns only, the header row on every page, grid lines for filled
    rows beyond the blank grid."""
    fit_to_width(ws, landscape=sum(widths) > PORTRAIT_WIDTH, language=language)
    last = get_column_letter(len(widths))
    ws.print_area = f"A1:{last}{last_row}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.gridLines = True


def print_instructions(ws: Worksheet, last_row: int, language: str) -> None:
    """The instructions: two columns in portrait, the text wrapping within them."""
    fit_to_width(ws, landscape=False, language=language)
    ws.print_area = f"A1:B{last_row}"


def wrapped_height(text: str, width: float) -> float:
    """The row height that shows every line of ``text`` wrapped in a column ``width``
    characters wide: neither Excel nor LibreOffice grows a row to its wrapped text on opening
    a file, so without it the instructions print cut off after their first line."""
    per_line = max(1.0, width - 2)
    lines = sum(max(1, math.ceil(display_width(part) / per_line)) for part in text.split("\n"))
    return lines * LINE_HEIGHT
