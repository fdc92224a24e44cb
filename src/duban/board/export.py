"""The filtered matrix as a workbook: what the coordinator sees, to forward or print.

Written with xlsxwriter as strings only (a unit name starting with ``=`` stays text, never a
formula), in constant memory so 10,000 units cost little.
"""

from __future__ import annotations

import io
from dataclasses import replace

import xlsxwriter  # type: ignore[import-untyped, unused-ignore]

from duban.board.words import words_for
from duban.model.matrix import Matrix, MatrixQuery


def matrix_workbook(
    matrix: Matrix, query: MatrixQuery, language: str, titles: dict[str, str]
) -> bytes:
    t = words_for(language)
    page = matrix.view(replace(query, page=1, per_page=max(1, len(matrix.lines))))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})  # fmt: skip
    sheet = book.add_worksheet(t("matrix")[:31])
    bold = book.add_format({"bold": True, "text_wrap": True})
    heads = [t("unit_id"), t("unit"), t("tag")] + [
        f"{titles.get(c.deliverable, c.deliverable)} {c.period}\n{t('due')} {c.due.isoformat()}"
        for c in page.columns
    ]
    for col, head in enumerate(heads):
        sheet.write_string(0, col, head, bold)
    for row, line in enumerate(page.rows, start=1):
        values = [line.unit_id, line.name, "、".join(line.tags)]
        values += [t(cell.value) if cell is not None else "" for cell in line.cells]
        for col, value in enumerate(values):
            sheet.write_string(row, col, value)
    sheet.freeze_panes(1, 2)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, len(heads), 14)
    book.close()
    return buffer.getvalue()
