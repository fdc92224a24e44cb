"""Pre-fill rows of a form sheet in a unit's template by patching the sheet's XML: no openpyxl.

A progress report's template holds the unit's open items, one row each; some cells are locked
(the item's id, its finding), the others stay editable. The master (``build_master``) already
holds, for every input style, a locked twin with a light grey fill; here each pre-filled cell
gets its value (inline string, number, or date serial under the column's date format) and, when
its column is locked, the twin of its style. Every other member of the zip is reused byte for
byte (``ZipCopier``), like ``MasterTemplate.personalise`` does for the shared strings.

    filler = SheetPrefiller(template, "进展")      # once per master (any unit's copy will do)
    data = filler.fill(unit_template, rows, locked_keys={"code", "finding"})
"""

from __future__ import annotations

import io
import itertools
import math
import posixpath
import re
import zipfile
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from xml.etree import ElementTree

from duban.adapters.xlsx.master import cell_text
from duban.adapters.xlsx.template import LOCKED_FILL_RGB
from duban.adapters.xlsx.zipcopy import ZipCopier
from duban.model.forms import FIRST_DATA_ROW, HEADER_ROW

__all__ = ["CellValue", "PrefillError", "SheetPrefiller", "prefilled"]

CellValue = str | int | float | date | None

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_STYLES = "xl/styles.xml"
_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system (past 1900-03-01)
# An empty input cell exactly as openpyxl writes it in the master.
_EMPTY_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)" s="(\d+)" t="n"></c>')
_HEADER_CELL = re.compile(rb'<c r="([A-Z]+)%d"[^>]*><is><t[^>]*>([^<]*)</t></is></c>' % HEADER_ROW)


class PrefillError(ValueError):
    """The template or the rows do not fit: an unknown sheet or column, more rows than the
    sheet holds, a value of a type a cell cannot hold, or a master without locked twins."""


class SheetPrefiller:
    """Pre-fills one form sheet of the copies of one master; built once, used per unit.

    ``template`` is the master or any unit's copy of it: the sheet's XML and the styles are the
    same in all of them (only ``xl/sharedStrings.xml`` differs)."""

    def __init__(self, template: bytes, sheet_name: str) -> None:
        with zipfile.ZipFile(io.BytesIO(template)) as archive:
            self.path = _sheet_path(archive, sheet_name)
            sheet = archive.read(self.path)
            twins = _locked_twins(archive.read(_STYLES))
        self.sheet_name = sheet_name
        self._keys = _column_keys(sheet)
        self._sheet = sheet
        self._twins = twins
        self._rows = _data_rows(sheet, self._keys)

    @property
    def columns(self) -> list[str]:
        """The column letters of the sheet's header row, in order."""
        return [letter.decode("ascii") for letter in self._keys]

    def fill(
        self,
        template: bytes,
        rows: Sequence[Mapping[str, CellValue]],
        locked_keys: Collection[str],
        keys: Sequence[str],
        *,
        row_locks: Sequence[Collection[str]] | None = None,
    ) -> bytes:
        """``template`` with ``rows`` written from ``FIRST_DATA_ROW`` on.

        ``keys`` are the form sheet's column keys in order (column A first); a row maps some of
        them to values (a missing key or None leaves the cell empty). Cells of ``locked_keys``
        columns in those rows are locked (grey), whether filled or empty; all others stay
        editable. ``row_locks``, one per row, locks those keys of that row as well (rows
        another unit reported, locked whole, above a unit's own)."""
        if len(keys) != len(self._keys):
            raise PrefillError(f"{self.sheet_name}: {len(keys)} keys for {len(self._keys)} columns")
        every = set(locked_keys).union(*(row_locks or ()))
        unknown = every.difference(keys)
        if unknown:
            raise PrefillError(f"locked keys not in the sheet: {', '.join(sorted(unknown))}")
        if row_locks is not None and len(row_locks) != len(rows):
            raise PrefillError(f"{len(row_locks)} row locks for {len(rows)} rows")
        if len(rows) > len(self._rows):
            raise PrefillError(
                f"{self.sheet_name}: {len(rows)} rows, the sheet holds {len(self._rows)} "
                "(more rows than the sheet holds)"
            )
        sheet = self._sheet
        pieces: list[bytes] = []
        at = 0
        for offset, row in enumerate(rows):
            extra = set(row).difference(keys)
            if extra:
                raise PrefillError(f"row {offset + 1}: unknown keys {', '.join(sorted(extra))}")
            start, end, cells = self._rows[offset]
            here = set(locked_keys).union(row_locks[offset] if row_locks else ())
            locked = [key in here for key in keys]
            pieces.append(sheet[at:start])
            for key, lock, (ref, style) in zip(keys, locked, cells, strict=True):
                if lock:
                    twin = self._twins.get(style)
                    if twin is None:
                        raise PrefillError(f"{ref.decode()}: style {style} has no locked twin")
                    style = twin
                pieces.append(_cell(ref, style, row.get(key)))
            at = end
        pieces.append(sheet[at:])
        return ZipCopier(template, self.path).copy(b"".join(pieces))


def _data_rows(
    sheet: bytes, letters: list[bytes]
) -> list[tuple[int, int, list[tuple[bytes, int]]]]:
    """Each input row from ``FIRST_DATA_ROW`` on, in order, while its cells are the empty
    input cells of the master, one per column of the header: where its cells start and end
    in ``sheet``, and each cell's reference and style."""
    rows: dict[int, list[re.Match[bytes]]] = {}
    for match in _EMPTY_CELL.finditer(sheet):
        rows.setdefault(int(match.group(2)), []).append(match)
    spans = []
    number = FIRST_DATA_ROW
    while [m.group(1) for m in rows.get(number, ())] == letters:
        cells = rows[number]
        start, end = cells[0].start(), cells[-1].end()
        if any(a.end() != b.start() for a, b in itertools.pairwise(cells)):
            break  # not one run of cells: leave it (and the rows below) alone
        spans.append((start, end, [(m.group(1) + m.group(2), int(m.group(3))) for m in cells]))
        number += 1
    return spans


def prefilled(
    template: bytes,
    sheet_name: str,
    rows: Sequence[Mapping[str, CellValue]],
    locked_keys: Collection[str],
    keys: Sequence[str],
) -> bytes:
    """One-off ``SheetPrefiller(template, sheet_name).fill(template, …)``; keep a
    ``SheetPrefiller`` per master when filling many units."""
    return SheetPrefiller(template, sheet_name).fill(template, rows, locked_keys, keys)


def _cell(ref: bytes, style: int, value: CellValue) -> bytes:
    head = b'<c r="%s" s="%d"' % (ref, style)
    if value is None:
        return head + b' t="n"></c>'
    if isinstance(value, bool):
        raise PrefillError(f"{ref.decode()}: a boolean is not a form value")
    if isinstance(value, str):
        return head + b' t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>' % (
            cell_text(value)
        )
    if isinstance(value, int):
        return head + b' t="n"><v>%d</v></c>' % value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PrefillError(f"{ref.decode()}: {value} is not a number a cell holds")
        return head + b' t="n"><v>%s</v></c>' % repr(value).encode()
    if isinstance(value, datetime):
        clock = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        serial = (value.date() - _EPOCH).days + clock / 86400
        return head + b' t="n"><v>%s</v></c>' % repr(serial).encode()
    if isinstance(value, date):
        return head + b' t="n"><v>%d</v></c>' % (value - _EPOCH).days
    raise PrefillError(f"{ref.decode()}: cannot write a {type(value).__name__}")


def _sheet_path(archive: zipfile.ZipFile, name: str) -> str:
    workbook = ElementTree.fromstring(archive.read(_WORKBOOK))
    rel_id = next(
        (s.get(_REL) for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == name), None
    )
    if rel_id is None:
        raise PrefillError(f"no sheet named {name!r}")
    rels = ElementTree.fromstring(archive.read(_WORKBOOK_RELS))
    for rel in rels.iter(f"{_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    raise PrefillError(f"sheet {name!r} has no part")


def _column_keys(sheet: bytes) -> list[bytes]:
    """The letters of the header row's cells (each form column has a header)."""
    return [m.group(1) for m in _HEADER_CELL.finditer(sheet)]


def _locked_twins(styles: bytes) -> dict[int, int]:
    """Cell format index of each unlocked input format → its locked grey twin."""
    root = ElementTree.fromstring(styles)
    fills = root.find(f"{_MAIN}fills")
    grey = {
        index
        for index, fill in enumerate(fills if fills is not None else [])
        if any(
            (c.get("rgb") or "").upper().endswith(LOCKED_FILL_RGB)
            for c in fill.iter(f"{_MAIN}fgColor")
        )
    }
    xfs = root.find(f"{_MAIN}cellXfs")
    if xfs is None or not grey:
        raise PrefillError("the template has no locked cell formats (built before pre-fill?)")
    unlocked: list[tuple[tuple[object, ...], int]] = []
    twins: dict[tuple[object, ...], int] = {}
    for index, xf in enumerate(xfs):
        protection = xf.find(f"{_MAIN}protection")
        is_locked = protection is None or protection.get("locked", "1") not in ("0", "false")
        alignment = xf.find(f"{_MAIN}alignment")
        shape = (
            xf.get("numFmtId"),
            xf.get("borderId"),
            xf.get("fontId"),
            tuple(sorted(alignment.attrib.items())) if alignment is not None else (),
        )
        if is_locked and int(xf.get("fillId", "0")) in grey:
            twins.setdefault(shape, index)
        elif not is_locked:
            unlocked.append((shape, index))
    return {index: twins[shape] for shape, index in unlocked if shape in twins}
