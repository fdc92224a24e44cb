"""A returned ballot read against the units it was made for: each row still the unit sent
(its id and name, pre-filled and locked), a mark and a comment per unit; every problem named
by sheet and cell, in Chinese and English, because the evaluator fixes the ballot in one pass.

Pure: the cells in (as intake read them), the marks, comments and problems out. The sheet,
its header, its number of rows and the comment's length are the form's rules
(``validate_workbook``). The mark is not: a mark off the scale is *spoiled*, which the count
sets apart (``ballots.points_of``), so it is kept as written rather than refused, and the
evaluator is told it will not count. A mark the form knows is kept as the form reads it (the
scale's word however the spreadsheet spaced it, a number in plain digits).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from duban.evaluate.ballots import points_of
from duban.model.ballotsheets import BALLOT_KEYS
from duban.model.forms import Column, Form, Sheet
from duban.model.roster import Unit
from duban.model.scoring import BallotSpec
from duban.model.validation import (
    CellProblem,
    Grid,
    Position,
    check_cell,
    column_letter,
    filled_row_numbers,
    same_text,
    validate_workbook,
)


@dataclass(frozen=True)
class BallotReading:
    """The marks (unit → as written; blank units left out), the comments, the marks that
    will not count (unit → as written), and every problem (then the rest is incomplete)."""

    marks: dict[str, str]
    comments: dict[str, str]
    spoiled: dict[str, str]
    problems: tuple[CellProblem, ...]


def read_ballot(
    form: Form,
    spec: BallotSpec,
    rated: Sequence[Unit],
    sheets: Mapping[str, Grid],
    *,
    version: str | None,
    uncomputed: Mapping[str, Collection[Position]] | None = None,
) -> BallotReading:
    """The ballot's marks and comments for ``rated`` (the units on it, in order)."""
    sheet = form.sheets[0]
    strict = next(c for c in sheet.columns if c.key == "mark")
    lenient = form.model_copy(update={"sheets": [_lenient(sheet)]})
    checked = validate_workbook(lenient, sheets, version, uncomputed)
    problems = list(checked.problems)
    formulas = (uncomputed or {}).get(sheet.name, ())
    grid = sheets.get(sheet.name)
    numbers = [] if grid is None else filled_row_numbers(sheet, grid, formulas)
    marks: dict[str, str] = {}
    comments: dict[str, str] = {}
    for row, number, unit in zip(checked.rows.get(sheet.name, []), numbers, rated, strict=False):
        found = _unit_problem(sheet.name, number, row, unit)
        if found is not None:
            problems.append(found)
            continue
        mark = _mark(sheet.name, number, strict, row.get("mark"))
        if mark:
            marks[unit.id] = mark
        comment = str(row.get("comment") or "").strip()
        if comment:
            comments[unit.id] = comment
    spoiled = {u: m for u, m in marks.items() if points_of(m, spec) is None}
    return BallotReading(marks, comments, spoiled, tuple(problems))


def _lenient(sheet: Sheet) -> Sheet:
    """The sheet with its mark column as free text: what was written is read, never refused."""
    columns = [
        Column(key=c.key, label=c.label, width=c.width) if c.key == "mark" else c
        for c in sheet.columns
    ]
    return sheet.model_copy(update={"columns": columns})


def _unit_problem(
    sheet: str, number: int, row: Mapping[str, Any], unit: Unit
) -> CellProblem | None:
    if str(row.get("unit") or "").strip() != unit.id:
        return _problem(
            sheet, "unit", number,
            f"单位编号应为“{unit.id}”（{unit.name}），请勿修改预填的被测评单位",
            f"the unit should read “{unit.id}” ({unit.name}); do not change the units listed",
        )  # fmt: skip
    if not same_text(row.get("name") or "", unit.name):
        return _problem(
            sheet, "name", number,
            f"被测评单位应为“{unit.name}”，请勿修改预填的被测评单位",
            f"the unit rated should read “{unit.name}”; do not change the units listed",
        )  # fmt: skip
    return None


def _mark(sheet: str, number: int, strict: Column, written: Any) -> str:
    """The mark as the form reads it when it is one the form knows, else as written."""
    text = str(written or "").strip()
    if not text:
        return ""
    cell = f"{column_letter(BALLOT_KEYS.index('mark') + 1)}{number}"
    normal, problem = check_cell(sheet, cell, strict, text)
    return text if problem is not None or normal is None else str(normal)


def _problem(sheet: str, key: str, number: int, zh: str, en: str) -> CellProblem:
    cell = f"{column_letter(BALLOT_KEYS.index(key) + 1)}{number}"
    return CellProblem(sheet, cell, "progress", None, {"zh": zh, "en": en})
