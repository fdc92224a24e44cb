"""A workbook's cells and duban metadata, read with calamine: what a worker process runs.

Everything here may be killed mid-way by a hostile file (calamine aborts the process when an
allocation fails), which is why it runs only in ``reader``'s workers. Values are kept as the
file holds them: calamine gives a float for an integer typed in Excel, and the validator, not
the reader, decides what a column accepts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import python_calamine as calamine

from duban.adapters.xlsx.layout import METADATA_SHEET
from duban.implement.intake.cellfacts import CellFacts, Position, cell_facts
from duban.implement.intake.limits import Limits
from duban.implement.intake.prevalidate import Prevalidated
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import WORKBOOK_KINDS, Kind

CellValue = str | int | float | bool | datetime | date | time | None
Grid = list[list[CellValue]]

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ParsedWorkbook:
    """Every worksheet (hidden ones included) as a full grid from A1, and the metadata.

    ``sheets`` keeps the workbook's order; an empty cell is None. ``metadata`` holds the
    key/value rows of the ``_duban`` sheet as strings, or is None when there is no such sheet.
    """

    kind: Kind
    metadata: dict[str, str] | None
    sheets: dict[str, Grid]
    prevalidated: Prevalidated | None = None
    """The sheets checked, in the worker, against the form the metadata claims (if any)."""
    uncomputed: dict[str, list[Position]] = field(default_factory=dict)
    """Per sheet, the empty cells that hold a formula with no saved result (see
    ``cellfacts``): empty to any reader, filled in the unit's eyes."""

    def require_metadata(self) -> dict[str, str]:
        """The metadata, or ``FileRejected("no-metadata")`` for a workbook not from duban."""
        if not self.metadata:
            raise FileRejected("no-metadata")
        return self.metadata


def parse_workbook(data: bytes, kind: Kind, limits: Limits) -> ParsedWorkbook:
    """Read ``data`` with calamine; ``FileRejected`` for what calamine refuses."""
    if kind not in WORKBOOK_KINDS:
        raise FileRejected("not-a-workbook", {"kind": kind.value})
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError as exc:
        raise FileRejected("encrypted") from exc
    except calamine.CalamineError as exc:
        raise _unreadable(exc) from exc
    with workbook:
        sheets = _sheets(workbook, limits)
    facts = cell_facts(data, kind)
    _show_percentages(sheets, facts)
    return ParsedWorkbook(
        kind=kind,
        metadata=_metadata(sheets.get(METADATA_SHEET)),
        sheets=sheets,
        uncomputed=_uncomputed(sheets, facts),
    )


def _show_percentages(sheets: dict[str, Grid], facts: CellFacts) -> None:
    """A percent-formatted number as the unit sees it: 0.5 becomes "50%" (the validator reads
    "50%" as 50 under a number column, and a message quotes it as typed)."""
    for name, positions in facts.percent.items():
        grid = sheets.get(name, [])
        for row, col in positions:
            if row < len(grid) and col < len(grid[row]):
                value = grid[row][col]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    grid[row][col] = percent_text(value)


def percent_text(value: int | float) -> str:
    """``0.5`` → ``"50%"``, ``0.125`` → ``"12.5%"``: the shortest decimal the float stands for,
    times 100, so no binary noise appears (0.07 is "7%", not "7.000000000000001%")."""
    scaled = (Decimal(repr(value)) * 100).normalize()
    return f"{scaled:f}%"


def _uncomputed(sheets: dict[str, Grid], facts: CellFacts) -> dict[str, list[Position]]:
    """The formula cells without a saved result that read as empty, sorted, per sheet."""
    found: dict[str, list[Position]] = {}
    for name, positions in facts.uncomputed.items():
        grid = sheets.get(name, [])
        empty = [
            (row, col)
            for row, col in positions
            if row >= len(grid) or col >= len(grid[row]) or grid[row][col] is None
        ]
        if empty:
            found[name] = sorted(empty)
    return found


def _sheets(workbook: calamine.CalamineWorkbook, limits: Limits) -> dict[str, Grid]:
    sheets: dict[str, Grid] = {}
    cells = 0
    for info in workbook.sheets_metadata:
        if info.typ != calamine.SheetTypeEnum.WorkSheet:
            continue  # chart and dialog sheets hold no cells
        try:
            sheet = workbook.get_sheet_by_name(info.name)
            end = sheet.end
            rows, cols = (end[0] + 1, end[1] + 1) if end is not None else (0, 0)
            cells += rows * cols
            if rows > limits.max_rows or cols > limits.max_cols or cells > limits.max_cells:
                raise FileRejected("absurd-dimension", {"rows": rows, "cols": cols})
            raw = sheet.to_python(skip_empty_area=False) if end is not None else []
        except calamine.CalamineError as exc:
            raise _unreadable(exc) from exc
        sheets[info.name] = [[_value(v) for v in row] for row in raw]
    return sheets


def _value(value: object) -> CellValue:
    """calamine's value as a ``CellValue``: "" (an empty cell) is None, and a duration (a time
    typed with a [h]:mm format) becomes a time of day or, past a day, Excel's count of days."""
    if value == "":
        return None
    if isinstance(value, timedelta):
        return _time_of_day(value) if timedelta(0) <= value < _DAY else value / _DAY
    assert isinstance(value, str | int | float | bool | datetime | date | time)
    return value


def _time_of_day(value: timedelta) -> time:
    seconds, micro = divmod(value // timedelta(microseconds=1), 1_000_000)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def _metadata(grid: Grid | None) -> dict[str, str] | None:
    """Key/value rows of the metadata sheet; the first occurrence of a key wins (a token that
    no longer matches catches any tampering)."""
    if grid is None:
        return None
    found: dict[str, str] = {}
    for row in grid:
        key = _text(row[0]).strip() if row else ""
        if key and key not in found:
            found[key] = _text(row[1]) if len(row) > 1 else ""
    return found


def _text(value: CellValue) -> str:
    """A metadata cell as the string duban wrote; a producer may have turned "1" into 1.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _unreadable(exc: Exception) -> FileRejected:
    return FileRejected("unreadable", {"reason": f"{type(exc).__name__}: {exc}"[:300]})
