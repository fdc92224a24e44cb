"""How far the cells of an OpenDocument spreadsheet reach, repeats included.

ODS compresses a grid with ``number-rows-repeated`` and ``number-columns-repeated``: a dozen
bytes can stand for a billion filled cells. LibreOffice itself writes huge repeats for the
empty remainder of every sheet (16,384 columns, a million rows), which parsers drop, so only
cells with content count towards the extent, at the position the repeats before them give.
expat reads ``content.xml`` incrementally; it also reports any DTD, which is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from duban.implement.intake.limits import Limits
from duban.implement.intake.reasons import FileRejected

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE_ELEMENT = f"{_TABLE} table"
_ROW = f"{_TABLE} table-row"
_CELLS = (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell")
_ROWS_REPEATED = f"{_TABLE} number-rows-repeated"
_COLUMNS_REPEATED = f"{_TABLE} number-columns-repeated"
_VALUE_TYPE = f"{_OFFICE} value-type"
_EXTERNAL = frozenset({f"{_TABLE} table-source", f"{_TABLE} dde-link", f"{_OFFICE} dde-source"})
"""A sheet linked to another file, or a live DDE link to another program."""


@dataclass
class _Table:
    row: int = 0
    rows: int = 0
    cols: int = 0


@dataclass
class _Row:
    repeat: int
    col: int = 0
    filled_to: int = 0


@dataclass
class _Cell:
    repeat: int
    filled: bool


@dataclass
class OdsExtent:
    """Feed ``content.xml`` in chunks; refuses as soon as a sheet reaches too far."""

    part: str
    limits: Limits
    cells: int = 0
    _tables: list[_Table] = field(default_factory=list)
    _row: _Row | None = None
    _cell: _Cell | None = None

    def __post_init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        self._parser = parser

    def feed(self, chunk: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            raise FileRejected("unreadable", {"part": self.part, "reason": str(exc)}) from exc

    def _doctype(self, *_: object) -> None:
        raise FileRejected("doctype", {"part": self.part})

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if self._cell is not None:
            self._cell.filled = True  # any element inside a cell: text, a note, a picture
        if name in _CELLS and self._row is not None:
            filled = _VALUE_TYPE in attributes
            self._cell = _Cell(_repeat(attributes, _COLUMNS_REPEATED), filled)
        elif name == _ROW and self._tables:
            self._row = _Row(_repeat(attributes, _ROWS_REPEATED))
        elif name == _TABLE_ELEMENT:
            self._tables.append(_Table())
        elif name in _EXTERNAL:
            raise FileRejected("external-links", {"part": self.part})

    def _end(self, name: str) -> None:
        if name in _CELLS and self._row is not None and self._cell is not None:
            self._row.col += self._cell.repeat
            if self._cell.filled:
                self._row.filled_to = self._row.col
            self._cell = None
        elif name == _ROW and self._row is not None and self._tables:
            self._end_row(self._tables[-1], self._row)
            self._row = None
        elif name == _TABLE_ELEMENT and self._tables:
            table = self._tables.pop()
            self.cells += table.rows * table.cols
            self._check(table)

    def _end_row(self, table: _Table, row: _Row) -> None:
        table.row += row.repeat
        if row.filled_to:
            table.rows = table.row
            table.cols = max(table.cols, row.filled_to)
            self._check(table)

    def _check(self, table: _Table) -> None:
        limits = self.limits
        if (
            table.rows > limits.max_rows
            or table.cols > limits.max_cols
            or self.cells + table.rows * table.cols > limits.max_cells
        ):
            raise FileRejected(
                "absurd-dimension", {"part": self.part, "rows": table.rows, "cols": table.cols}
            )


def _repeat(attributes: dict[str, str], name: str) -> int:
    try:
        return max(1, int(attributes.get(name, "1")))
    except ValueError:
        return 1
