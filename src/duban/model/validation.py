"""Cell-by-cell validation of a returned workbook against its form.

Every problem names the sheet, the cell, what was found and what was expected, in the
campaign's language, because the unit that reads the rejection has only its spreadsheet program
to fix it with. Values are normalised on the way (full-width digits, thousands separators,
dates typed as text, Excel date serials), so a unit is not rejected for how its program stored
a correct value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from duban.model.campaign import Language
from duban.model.forms import FIRST_DATA_ROW, HEADER_ROW, Column, Form, Sheet
from duban.model.roster import is_email

CellValue = str | int | float | bool | datetime | date | None
Grid = Sequence[Sequence[Any]]
Position = tuple[int, int]
"""(row, column) of a grid, both from 0."""
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_PHONE = re.compile(r"^\+?[\d\s()（）-]{7,24}$")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    cell: str | None
    code: str
    found: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, language: Language) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        text = MESSAGES[language][self.code].format(**self.detail)
        if self.found is not None:
            found = self.found if len(self.found) <= 40 else self.found[:40] + "…"
            text += ("（填写的是“{}”）" if language == "zh-CN" else " (found “{}”)").format(found)
        return f"{where}: {text}"


@dataclass
class Checked:
    """Rows that passed, per sheet name, and every problem found."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[CellProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


MESSAGES: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "missing-sheet": "缺少工作表“{name}”，请使用下发的模板填写，不要修改工作表名称",
        "header": "表头应为“{label}”，请不要修改表头",
        "version": "模板版本已更新（应为第{expected}版），请使用最新下发的模板",
        "required": "“{label}”为必填项，不能为空",
        "uncomputed": "“{label}”填的是公式，但文件中没有保存公式的计算结果（由脚本或某些转换工具"
        "生成的文件会这样）。请在 Excel 或 WPS 中打开后保存一次，或直接填写数值",
        "integer": "“{label}”应填写整数",
        "decimal": "“{label}”应填写数字",
        "date": "“{label}”应填写日期，如 2026-03-05",
        "choice": "“{label}”应从下拉列表中选择：{choices}",
        "email": "“{label}”应填写电子邮箱地址，如 name@example.com",
        "phone": "“{label}”应填写电话号码，如 13800000000 或 0519-82812345",
        "min": "“{label}”不能小于 {limit}",
        "max": "“{label}”不能大于 {limit}",
        "max_length": "“{label}”不能超过 {limit} 个字",
        "min_rows": "至少应填写 {limit} 行（现有 {count} 行）",
        "max_rows": "最多填写 {limit} 行（现有 {count} 行）",
        "progress": "{zh}",
    },
    "en": {
        "missing-sheet": "the sheet “{name}” is missing; fill in the template sent to you "
        "without renaming its sheets",
        "header": "the header should read “{label}”; please do not change the header",
        "version": "the template has been updated (version {expected}); use the latest one",
        "required": "“{label}” is required",
        "uncomputed": "“{label}” holds a formula whose result was not saved in the file (files "
        "written by scripts and some converters are like this); open the file in Excel or WPS "
        "and save it once, or type the value itself",
        "integer": "“{label}” must be a whole number",
        "decimal": "“{label}” must be a number",
        "date": "“{label}” must be a date such as 2026-03-05",
        "choice": "“{label}” must be chosen from the list: {choices}",
        "email": "“{label}” must be an email address such as name@example.com",
        "phone": "“{label}” must be a telephone number such as 13800000000 or 0519-82812345",
        "min": "“{label}” must be at least {limit}",
        "max": "“{label}” must be at most {limit}",
        "max_length": "“{label}” must be at most {limit} characters",
        "min_rows": "at least {limit} rows are required ({count} filled)",
        "max_rows": "at most {limit} rows are allowed ({count} filled)",
        "progress": "{en}",
    },
}


def validate_workbook(
    form: Form,
    sheets: Mapping[str, Grid],
    template_version: str | None,
    uncomputed: Mapping[str, Collection[Position]] | None = None,
) -> Checked:
    """Every sheet of the form checked in ``sheets`` (other sheets are ignored).

    ``uncomputed`` names, per sheet, the cells holding a formula with no saved result: empty
    to the reader, so the unit is told about the formula rather than that the cell is empty.
    """
    checked = Checked()
    if template_version is not None and template_version != str(form.version):
        first = form.sheets[0].name
        checked.problems.append(
            CellProblem(first, None, "version", detail={"expected": form.version})
        )
    for sheet in form.sheets:
        grid = sheets.get(sheet.name)
        if grid is None:
            checked.problems.append(
                CellProblem(sheet.name, None, "missing-sheet", detail={"name": sheet.name})
            )
            continue
        formulas = frozenset((uncomputed or {}).get(sheet.name, ()))
        rows, problems = validate_sheet(sheet, grid, formulas)
        checked.rows[sheet.name] = rows
        checked.problems.extend(problems)
    return checked


def validate_sheet(
    sheet: Sheet, grid: Grid, uncomputed: Collection[Position] = frozenset()
) -> tuple[list[dict[str, Any]], list[CellProblem]]:
    problems = list(_header_problems(sheet, grid))
    rows: list[dict[str, Any]] = []
    columns = [(column, column_letter(index + 1)) for index, column in enumerate(sheet.columns)]
    for number, raw in _filled_rows(grid, len(columns), uncomputed):
        row: dict[str, Any] = {}
        width = len(raw)
        for index, (column, letter) in enumerate(columns):
            value = raw[index] if index < width else None
            cell = f"{letter}{number}"
            if _blank(value) and (number - 1, index) in uncomputed:
                problem: CellProblem | None = CellProblem(
                    sheet.name, cell, "uncomputed", None, {"label": column.label}
                )
                normal = None
            else:
                normal, problem = check_cell(sheet.name, cell, column, value)
            if problem is not None:
                problems.append(problem)
            row[column.key] = normal
        rows.append(row)
    problems.extend(_row_count_problems(sheet, len(rows)))
    return rows, problems


def column_letter(number: int) -> str:
    """Excel's name of the column numbered from 1: 1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def same_text(found: Any, declared: str) -> bool:
    """A cell's text is the declared text, both read the same way (NFKC, outer spaces off):
    a spreadsheet program or an input method may store ``（%）`` as ``(%)`` or the reverse."""
    return _text(found) == _text(declared)


def _header_problems(sheet: Sheet, grid: Grid) -> Iterator[CellProblem]:
    header = grid[HEADER_ROW - 1] if len(grid) >= HEADER_ROW else []
    for index, column in enumerate(sheet.columns):
        found = header[index] if index < len(header) else None
        if not same_text(found, column.label):
            cell = f"{column_letter(index + 1)}{HEADER_ROW}"
            yield CellProblem(sheet.name, cell, "header", _shown(found), {"label": column.label})


def _filled_rows(
    grid: Grid, width: int, uncomputed: Collection[Position]
) -> Iterator[tuple[int, Sequence[Any]]]:
    """Rows with a value, or a formula cell without a saved result, under the form's columns."""
    formula_rows = {row for row, col in uncomputed if col < width}
    last = max(len(grid), max(formula_rows, default=-1) + 1)  # readers trim a formula-only end
    for index in range(FIRST_DATA_ROW - 1, last):
        raw = grid[index] if index < len(grid) else ()
        if any(not _blank(v) for v in raw[:width]) or index in formula_rows:
            yield index + 1, raw


def filled_row_numbers(
    sheet: Sheet, grid: Grid, uncomputed: Collection[Position] = frozenset()
) -> list[int]:
    """The sheet row number (from 1) of each row ``validate_sheet`` returns, in order: rows
    left empty in between are skipped there, so a row's place in the list is not its number."""
    return [number for number, _ in _filled_rows(grid, len(sheet.columns), uncomputed)]


def _row_count_problems(sheet: Sheet, count: int) -> Iterator[CellProblem]:
    if count < sheet.min_rows:
        yield CellProblem(
            sheet.name, None, "min_rows", detail={"limit": sheet.min_rows, "count": count}
        )
    if count > sheet.max_rows:
        yield CellProblem(
            sheet.name, None, "max_rows", detail={"limit": sheet.max_rows, "count": count}
        )


def check_cell(sheet: str, cell: str, column: Column, value: Any) -> tuple[Any, CellProblem | None]:
    """The normalised value (JSON-ready) and the problem with it, if any."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if not column.required:
            return None, None
        return None, CellProblem(sheet, cell, "required", None, {"label": column.label})
    try:
        normal = _NORMALISERS[column.type](value, column)
    except _Invalid as invalid:
        detail = {"label": column.label, **invalid.detail}
        return None, CellProblem(sheet, cell, invalid.code, _shown(value), detail)
    return normal, None


class _Invalid(Exception):  # noqa: N818 (internal control flow, never leaves this module)
    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return _text(value) if not isinstance(value, str) else value


def _as_text(value: Any, column: Column) -> str:
    text = _text(value) if not isinstance(value, str) else value.strip()
    if isinstance(value, (datetime, date)):
        text = value.isoformat()
    if column.max_length is not None and len(text) > column.max_length:
        raise _Invalid("max_length", limit=column.max_length)
    return text


def _as_number(value: Any, column: Column) -> Decimal:
    if isinstance(value, (bool, datetime, date)):
        raise _Invalid("decimal" if column.type == "decimal" else "integer")
    text = _text(value).replace(",", "").replace("，", "").removesuffix("%")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _Invalid("decimal" if column.type == "decimal" else "integer") from None
    if not number.is_finite():
        raise _Invalid("decimal")
    if column.min is not None and number < column.min:
        raise _Invalid("min", limit=_plain(column.min))
    if column.max is not None and number > column.max:
        raise _Invalid("max", limit=_plain(column.max))
    return number


def _as_integer(value: Any, column: Column) -> int:
    number = _as_number(value, column)
    if number != number.to_integral_value():
        raise _Invalid("integer")
    return int(number)


def _as_decimal(value: Any, column: Column) -> str:
    """The number as plain digits: 100000 is "100000", never "1E+5"."""
    return _plain(_as_number(value, column))


def _as_date(value: Any, column: Column) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat()  # a date serial
    match = _DATE_TEXT.match(_text(value))
    if match is None:
        raise _Invalid("date")
    try:
        return date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        raise _Invalid("date") from None


def _as_choice(value: Any, column: Column) -> str:
    """The declared choice the value names (read as ``same_text`` reads a header)."""
    choices = column.choices or []
    chosen = next((choice for choice in choices if same_text(value, choice)), None)
    if chosen is None:
        raise _Invalid("choice", choices="、".join(choices))
    return chosen


def _as_email(value: Any, column: Column) -> str:
    text = _text(value)
    if not is_email(text):
        raise _Invalid("email")
    return text


def _as_phone(value: Any, column: Column) -> str:
    text = _text(value)
    digits = re.sub(r"\D", "", text)
    if not _PHONE.match(text) or not 7 <= len(digits) <= 20:
        raise _Invalid("phone")
    return text


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


_NORMALISERS = {
    "text": _as_text,
    "integer": _as_integer,
    "decimal": _as_decimal,
    "date": _as_date,
    "choice": _as_choice,
    "email": _as_email,
    "phone": _as_phone,
}
