"""The coordinator's bonuses and penalties (加分 / 扣分) read from a spreadsheet: one row each,
the unit, the points (positive a bonus, negative a penalty), the reason and the evidence.

As with ``duban rectify import``, every row is checked before anything is recorded and every
problem of the file is reported at once (row, column, what was expected); a file with one bad
row records nothing. Each row is recorded once by where it came from (the file's digest, its
sheet and row), so the same file imported again records nothing. Pure: grids in, rows or the
problems out; the command stores the file and records the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from duban.errors import Problem
from duban.model.roster import Unit
from duban.model.validation import column_letter
from duban.selfcheck.importing import (
    HEADER_SEARCH_ROWS,
    FileProblemsError,
    UnitFinder,
    blank_cell,
    cell_text,
    fields_of,
)

LABELS: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "单位名称", "单位编号", "被考核单位", "Unit"),
    "points": ("分值", "加减分", "加分/扣分", "Points"),
    "reason": ("事由", "理由", "加减分事由", "Reason"),
    "evidence": ("依据", "佐证", "证明材料", "Evidence"),
}
"""The header labels each field is read from (the first of each is how it is named)."""
REQUIRED = ("unit", "points", "reason")
MOST = Decimal(100)
"""No single bonus or penalty moves a unit by more than the whole scale."""


class AdjustmentFileError(FileProblemsError):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(source, problems, command="evaluate adjustments",
                         nothing=("nothing was imported", "未导入任何加减分"))  # fmt: skip


@dataclass(frozen=True)
class AdjustmentLine:
    """One valid row: where it is (its ``ref``), whose, how many points, why, on what."""

    ref: str
    unit_id: str
    points: Decimal
    reason: str
    evidence: str


def plan_adjustments(
    grids: dict[str, list[tuple[Any, ...]]], units: Sequence[Unit], *, sha: str, name: str
) -> list[AdjustmentLine]:
    """Every row of the first sheet with a header row, or ``AdjustmentFileError``."""
    found = _header(grids)
    if found is None:
        raise AdjustmentFileError(name, [Problem(
            name, f"no header row naming 单位, 分值 and 事由 in the first {HEADER_SEARCH_ROWS} "
            "rows of any sheet",
            zh=f"任何工作表的前 {HEADER_SEARCH_ROWS} 行中都没有含“单位、分值、事由”的表头行",
        )])  # fmt: skip
    sheet, header_row, columns = found
    finder, problems, lines = UnitFinder(units), list[Problem](), []
    for number, cells in enumerate(grids[sheet][header_row:], start=header_row + 1):
        if all(blank_cell(c) for c in cells):
            continue
        line = _line(f"{sha[:16]}:{sheet}:{number}", number, cells, columns, finder, problems)
        if line is not None:
            lines.append(line)
    if not lines and not problems:
        problems.append(Problem(name, f"sheet {sheet!r} has no row under its header",
                                zh=f"工作表“{sheet}”的表头下没有任何一行"))  # fmt: skip
    if problems:
        raise AdjustmentFileError(name, problems)
    return lines


def _header(
    grids: dict[str, list[tuple[Any, ...]]],
) -> tuple[str, int, dict[str, tuple[int, str]]] | None:
    for sheet, grid in grids.items():
        for number, cells in enumerate(grid[:HEADER_SEARCH_ROWS], start=1):
            columns = fields_of(cells, LABELS)
            if all(field in columns for field in REQUIRED):
                return sheet, number, columns
    return None


def _line(
    ref: str,
    number: int,
    cells: Sequence[Any],
    columns: dict[str, tuple[int, str]],
    finder: UnitFinder,
    problems: list[Problem],
) -> AdjustmentLine | None:
    found: list[Problem] = []

    def cell(field: str) -> Any:
        index = columns[field][0] if field in columns else len(cells)
        return cells[index] if index < len(cells) else None

    def problem(field: str, message: str, zh: str) -> None:
        index, label = columns[field]
        letter = column_letter(index + 1)
        found.append(Problem(f"row {number}, column {letter} ({label})", message, zh=zh,
                             zh_where=f"第 {number} 行 {letter} 列（{label}）"))  # fmt: skip

    unit_id = _unit(cell_text(cell("unit")), finder, problem)
    points = _points(cell("points"), problem)
    reason = cell_text(cell("reason"))
    if reason is None:
        problem("reason", "empty: every bonus or penalty needs its reason",
                "不能为空：加分、扣分都须写明事由")  # fmt: skip
    problems.extend(found)
    if found or unit_id is None or points is None or reason is None:
        return None
    return AdjustmentLine(ref, unit_id, points, reason, cell_text(cell("evidence")) or "")


def _unit(text: str | None, finder: UnitFinder, problem: Any) -> str | None:
    if text is None:
        problem("unit", "empty: write the unit's id or name", "不能为空，请填写单位编号或单位名称")
        return None
    found = finder.find(text)
    if len(found) == 1:
        return found[0]
    problem("unit", f"no single unit {text!r} in the roster: write a unit's id",
            f"花名册中没有唯一的单位“{text}”，请填写单位编号")  # fmt: skip
    return None


def _points(value: Any, problem: Any) -> Decimal | None:
    text = cell_text(value)
    try:
        points = Decimal(str(text).replace("＋", "+").replace("－", "-")) if text else None
    except InvalidOperation:
        points = None
    if points is None or not points.is_finite() or points == 0 or abs(points) > MOST:
        problem("points", f"{text!r} is not a number of points: write +2 for a bonus, -1.5 "
                "for a penalty", f"“{text or ''}”不是分值：加分写 +2，扣分写 -1.5")  # fmt: skip
        return None
    return points.quantize(Decimal("0.01"))
