"""The coordinator's own list of problems (督查交办) read into items: ``duban rectify import``.

An inspection team or the office itself finds problems and hands them to units in one
spreadsheet, one row a problem, under the same column labels as the units' problem lists
and the 整改台账 (责任单位, 问题类别, 问题描述, 原因剖析, 整改措施, 责任人, 整改时限,
长期坚持, in Chinese or in the ledger's English). Every row is checked before anything is
recorded and every problem of the file is reported at once (row, column, what was
expected), because the coordinator fixes the file in one pass and imports it again; a file
with one bad row records nothing. Everything here is pure: the bytes in, ``NewItem``s or
the problems out; the command stores the file and records the items.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from duban.errors import DubanError, InvalidInputError, Problem
from duban.model.campaign import ItemSource
from duban.model.forms import Column
from duban.model.roster import Unit
from duban.model.validation import check_cell, column_letter
from duban.selfcheck.items import LONG_TERM_WORDS, NewItem, plain

LABELS: dict[str, tuple[str, ...]] = {
    "unit": ("责任单位", "单位", "单位编号", "单位名称", "Responsible unit", "Unit"),
    "category": ("问题类别", "Category"),
    "finding": ("问题描述", "Finding"),
    "cause": ("原因剖析", "Cause"),
    "measure": ("整改措施", "Measure"),
    "owner": ("责任人", "Responsible person", "Owner"),
    "partners": ("配合单位", "Partners"),
    "due": ("整改时限", "Deadline"),
    "long_term": ("长期坚持", "Long-term", "Long term"),
}
"""The header labels each field is read from (the first of each is how it is named)."""
REQUIRED = ("unit", "finding", "due")
HEADER_SEARCH_ROWS = 10
"""A title or a note may stand above the header; it is looked for in this many rows."""
MAX_LENGTHS = {"category": 64, "owner": 100}
"""The ledger's limits on short fields (its columns' sizes)."""

_YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", *LONG_TERM_WORDS})
_NO = frozenset({"否", "n", "no", "false", "0", "×", "-", "—"})
_DATE = Column(key="due", label="整改时限", type="date")


@dataclass(frozen=True)
class ImportRow:
    """One row of the file that becomes an item: its row number as the spreadsheet shows it."""

    row: int
    item: NewItem


@dataclass(frozen=True)
class ImportPlan:
    """What a valid file asks for: the sheet read, its rows as items, in order, and the rows
    that repeat an earlier row of the same unit (same finding, spaces aside), left out."""

    sheet: str
    rows: tuple[ImportRow, ...]
    repeated: tuple[int, ...]

    @property
    def row_count(self) -> int:
        """The problem rows of the file, repeated ones included."""
        return len(self.rows) + len(self.repeated)


class FileProblemsError(InvalidInputError):
    """A coordinator's file's problems, every one, and the command to run again once they are
    fixed; nothing was recorded (``nothing``: saying so, in English and Chinese)."""

    def __init__(
        self, source: str, problems: list[Problem], *, command: str, nothing: tuple[str, str]
    ) -> None:
        super().__init__(source, problems)
        noun = "problem" if len(problems) == 1 else "problems"
        self.message = f"{source}: {len(problems)} {noun}; {nothing[0]}"
        self.hint = f"correct the file and run `duban {command}` again"
        self.zh = f"{source}：{len(problems)} 处问题，{nothing[1]}"
        self.zh_hint = f"改正后重新运行 `duban {command}`"


class ImportFileError(FileProblemsError):
    """The file's problems, every one; nothing was recorded."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(source, problems, command="rectify import",
                         nothing=("nothing was imported", "未导入任何事项"))  # fmt: skip


def read_grid(data: bytes, name: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every worksheet's cells (values, as saved), by sheet name, in the workbook's order."""
    from openpyxl import load_workbook  # only this command needs it; keeps start-up light
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise DubanError(
            f"{name} is not an .xlsx workbook",
            hint="save it from Excel or WPS as an .xlsx workbook and import that",
            zh=f"{name} 不是 .xlsx 工作簿",
            zh_hint="请在 Excel 或 WPS 中另存为 .xlsx 工作簿后再导入",
        ) from None
    try:
        grids = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # read-only mode trusts a stale dimension and drops rows
            grids[sheet.title] = list(sheet.iter_rows(values_only=True))
        return grids
    finally:
        book.close()


def plan_import(
    grids: dict[str, list[tuple[Any, ...]]],
    units: Sequence[Unit],
    *,
    source: ItemSource,
    origin: str,
    name: str,
) -> ImportPlan:
    """The items the first sheet with a header row asks for, or ``ImportFileError`` listing
    every problem of the file. ``origin`` (``import:<digest>``) makes each row's origin key."""
    found = _header(grids)
    if found is None:
        wanted = "、".join(LABELS[f][0] for f in REQUIRED)
        raise ImportFileError(name, [Problem(
            name,
            f"no header row naming {', '.join(LABELS[f][0] for f in REQUIRED)} in the first "
            f"{HEADER_SEARCH_ROWS} rows of any sheet",
            zh=f"任何工作表的前 {HEADER_SEARCH_ROWS} 行中都没有含“{wanted}”的表头行",
        )])  # fmt: skip
    sheet, header_row, columns = found
    problems = list(_missing_columns(name, header_row, columns))
    if problems:
        raise ImportFileError(name, problems)
    reader = _RowReader(columns, UnitFinder(units), source, origin)
    rows: list[ImportRow] = []
    repeated: list[int] = []
    seen: set[tuple[str, str]] = set()
    for number, cells in enumerate(grids[sheet][header_row:], start=header_row + 1):
        if all(blank_cell(c) for c in cells):
            continue
        item = reader.read(number, cells, problems)
        if item is None:
            continue
        key = (item.unit_id, plain(item.finding))
        if key in seen:
            repeated.append(number)
            continue
        seen.add(key)
        rows.append(ImportRow(number, item))
    if not rows and not repeated and not problems:
        problems.append(Problem(name, f"sheet {sheet!r} has no row under its header",
                                zh=f"工作表“{sheet}”的表头下没有任何一行"))  # fmt: skip
    if problems:
        raise ImportFileError(name, problems)
    return ImportPlan(sheet, tuple(rows), tuple(repeated))


# --------------------------------------------------------------------------- the header


def _header(
    grids: dict[str, list[tuple[Any, ...]]],
) -> tuple[str, int, dict[str, tuple[int, str]]] | None:
    """The first sheet and row (from 1) whose cells name the finding column, and the column
    (from 0) and label of each field it names."""
    for sheet, grid in grids.items():
        for number, cells in enumerate(grid[:HEADER_SEARCH_ROWS], start=1):
            columns = fields_of(cells, LABELS)
            if "finding" in columns:
                return sheet, number, columns
    return None


def fields_of(
    cells: Iterable[Any], labels_of: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[int, str]]:
    """The column (from 0) and header label of each field a header row names, by the labels
    it may go by (in either language, letter case and full-width forms aside)."""
    known = {_key(label): field for field, labels in labels_of.items() for label in labels}
    columns: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        field = known.get(_key(cell))
        if field is not None and field not in columns:
            columns[field] = (index, str(cell).strip())
    return columns


def _missing_columns(
    name: str, header_row: int, columns: dict[str, tuple[int, str]]
) -> Iterable[Problem]:
    for field in REQUIRED:
        if field not in columns:
            labels = LABELS[field]
            yield Problem(
                f"row {header_row}",
                f"the header has no column {labels[0]} ({' / '.join(labels[1:])})",
                zh=f"表头中没有“{labels[0]}”列",
                zh_where=f"第 {header_row} 行",
            )


def _key(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().casefold() if value else ""


# --------------------------------------------------------------------------- the rows


class UnitFinder:
    """A unit by its id (any letter case) or by its name as the roster spells it."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.by_id = {u.id.upper(): u.id for u in units}
        names: dict[str, list[str]] = {}
        for unit in units:
            names.setdefault(_key(unit.name), []).append(unit.id)
        self.by_name = names

    def find(self, text: str) -> list[str]:
        found = self.by_id.get(text.upper())
        if found is not None:
            return [found]
        return self.by_name.get(_key(text), [])


class _RowReader:
    def __init__(
        self,
        columns: dict[str, tuple[int, str]],
        units: UnitFinder,
        source: ItemSource,
        origin: str,
    ) -> None:
        self.columns, self.units, self.source, self.origin = columns, units, source, origin

    def read(self, number: int, cells: Sequence[Any], problems: list[Problem]) -> NewItem | None:
        """The row's item, or None with its problems added (every one, not the first)."""
        found: list[tuple[int, Problem]] = []

        def cell(field: str) -> Any:
            if field not in self.columns:
                return None
            index = self.columns[field][0]
            return cells[index] if index < len(cells) else None

        def problem(field: str, message: str, zh: str) -> None:
            index, label = self.columns[field]
            letter = column_letter(index + 1)
            where, zh_where = (
                f"row {number}, column {letter} ({label})",
                f"第 {number} 行 {letter} 列（{label}）",
            )
            found.append((index, Problem(where, message, zh=zh, zh_where=zh_where)))

        unit_id = self._unit(cell_text(cell("unit")), problem)
        finding = cell_text(cell("finding"))
        if finding is None:
            problem("finding", "empty: write what was found", "不能为空，请写明发现的问题")
        deadline, long_term = self._deadline(cell("due"), cell("long_term"), problem)
        texts = {f: cell_text(cell(f)) for f in ("category", "cause", "measure", "owner")}
        for field, limit in MAX_LENGTHS.items():
            text = texts[field]
            if text is not None and len(text) > limit:
                problem(field, f"longer than {limit} characters",
                        f"不能超过 {limit} 个字")  # fmt: skip
        problems.extend(p for _, p in sorted(found, key=lambda f: f[0]))
        if found or unit_id is None or finding is None:
            return None
        partners = tuple(p for p in _split(cell_text(cell("partners"))) if p)
        return NewItem(
            unit_id=unit_id, finding=finding, source=self.source, category=texts["category"],
            cause=texts["cause"], measure=texts["measure"], owner=texts["owner"],
            partners=partners, deadline=deadline, long_term=long_term,
            origin_key=f"{self.origin}:row:{number}",
        )  # fmt: skip

    def _unit(self, text: str | None, problem: Any) -> str | None:
        if text is None:
            problem("unit", "empty: write the unit's id or name",
                    "不能为空，请填写单位编号或单位名称")  # fmt: skip
            return None
        found = self.units.find(text)
        if len(found) == 1:
            return found[0]
        if found:
            problem("unit", f"several units are named {text!r} ({', '.join(found)}): write its id",
                    f"有多个单位名为“{text}”（{'、'.join(found)}），请填写单位编号")  # fmt: skip
        else:
            problem("unit", f"no unit {text!r} in the roster: write a unit's id or name",
                    f"花名册中没有单位“{text}”，请填写单位编号或单位名称")  # fmt: skip
        return None

    def _deadline(self, due: Any, long_term_cell: Any, problem: Any) -> tuple[date | None, bool]:
        long_term = False
        said = cell_text(long_term_cell)
        if said is not None:
            word = _key(said)
            if word in _YES:
                long_term = True
            elif word not in _NO:
                problem("long_term", "write 是 (yes) or leave it empty",
                        "请填写“是”或留空")  # fmt: skip
        text = cell_text(due)
        if isinstance(due, str) and text is not None and _key(text) in LONG_TERM_WORDS:
            return None, True
        if text is None:
            if not long_term:
                problem("due", "empty: write a date such as 2026-09-30, or 长期坚持",
                        "不能为空，请填写日期（如 2026-09-30）或“长期坚持”")  # fmt: skip
            return None, long_term
        normal, wrong = check_cell("", "", _DATE, due)
        if wrong is not None or normal is None:
            problem("due", f"{text!r} is not a date: write one such as 2026-09-30, or 长期坚持",
                    f"“{text}”不是日期，请填写如 2026-09-30 的日期或“长期坚持”")  # fmt: skip
            return None, long_term
        return date.fromisoformat(normal), long_term


def cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = (
        unicodedata.normalize("NFKC", str(value)).strip() if not isinstance(value, str) else value
    )
    return text.strip() or None


def _split(text: str | None) -> list[str]:
    if text is None:
        return []
    for separator in "；;，,、":
        text = text.replace(separator, " ")
    return text.split()


def blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
