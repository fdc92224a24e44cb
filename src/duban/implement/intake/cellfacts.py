"""What calamine does not say about a cell, read from the file itself: that it is formatted as a
percentage, or that it holds a formula with no saved result.

Both change what the unit sees from what a value reader returns. Excel stores ``50%`` as 0.5,
so a percentage column would reject (or, worse, record 0.01 for 1 %) what the unit typed; and a
formula written by a script or some converters carries no cached result, which any reader
returns as an empty cell, so the unit would be told to fill a cell it filled. These facts let
``parse`` show the cell as the unit sees it ("50%") and let validation name the formula.

Only what is cheap is read: the styles and the workbook's sheet list, and a sheet's XML only
when it uses a percentage style or holds a formula at all. Runs in the reader's workers, on
files the pre-check passed.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers import expat

from duban.implement.intake.sniff import Kind

Position = tuple[int, int]
"""(row, column), both from 0: the place in a grid read from A1."""

_PERCENT_BUILTINS = frozenset({9, 10})
"""Excel's built-in number formats ``0%`` and ``0.00%``."""
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_TEXT_TYPES = frozenset({"str", "s", "inlineStr"})
"""Cell types whose empty ``<v>`` is a saved result: a formula that gives "" (=IF(…,"",…))."""


@dataclass
class CellFacts:
    """Per sheet name: percent-formatted number cells, and formula cells with no saved result."""

    percent: dict[str, set[Position]] = field(default_factory=dict)
    uncomputed: dict[str, set[Position]] = field(default_factory=dict)

    def add(self, table: dict[str, set[Position]], sheet: str, position: Position) -> None:
        table.setdefault(sheet, set()).add(position)


def cell_facts(data: bytes, kind: Kind) -> CellFacts:
    """The facts of an xlsx/xlsm, ods or xls file (an xls always keeps a formula's result)."""
    if kind in (Kind.XLSX, Kind.XLSM):
        return _ooxml_facts(data)
    if kind is Kind.ODS:
        return _ods_facts(data)
    if kind is Kind.XLS:
        return _xls_facts(data)
    return CellFacts()


# --- OOXML --------------------------------------------------------------------------------


def _ooxml_facts(data: bytes) -> CellFacts:
    facts = CellFacts()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {info.filename for info in archive.infolist()}
        workbook = _office_document(archive, names)
        if workbook is None:
            return facts
        targets = _targets(archive, names, workbook)
        styles = next((t for kind, t in targets.values() if kind.endswith("/styles")), None)
        percent_styles = _percent_styles(archive, styles) if styles in names else frozenset()
        for sheet, part in _sheet_parts(archive, workbook, targets):
            if part in names:
                _scan_sheet(archive.read(part), sheet, percent_styles, facts)
    return facts


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml(archive: zipfile.ZipFile, part: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(part))


def _office_document(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part the package's relationships name (``xl/workbook.xml`` as a rule)."""
    if "_rels/.rels" not in names:
        return "xl/workbook.xml" if "xl/workbook.xml" in names else None
    for rel in _xml(archive, "_rels/.rels"):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    return None


def _targets(
    archive: zipfile.ZipFile, names: set[str], workbook: str
) -> dict[str, tuple[str, str]]:
    """The workbook's relationships: id → (type, part name)."""
    folder, base = posixpath.split(workbook)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for rel in _xml(archive, rels):
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(part))
    return found


def _sheet_parts(
    archive: zipfile.ZipFile, workbook: str, targets: dict[str, tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    for element in _xml(archive, workbook).iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
        if rel_id in targets:
            yield element.get("name", ""), targets[rel_id][1]


def _percent_styles(archive: zipfile.ZipFile, styles: str | None) -> frozenset[int]:
    """Indexes of the cell formats (``s="…"``) whose number format shows a percentage."""
    if styles is None:
        return frozenset()
    root = _xml(archive, styles)
    codes = {
        int(fmt.get("numFmtId", "-1")): fmt.get("formatCode", "")
        for fmt in root.iter()
        if _local(fmt.tag) == "numFmt"
    }
    cell_xfs = next((e for e in root if _local(e.tag) == "cellXfs"), None)
    if cell_xfs is None:
        return frozenset()
    percent = set()
    for index, xf in enumerate(e for e in cell_xfs if _local(e.tag) == "xf"):
        number_format = int(xf.get("numFmtId", "0"))
        if number_format in _PERCENT_BUILTINS or is_percent_format(codes.get(number_format, "")):
            percent.add(index)
    return frozenset(percent)


def is_percent_format(code: str) -> bool:
    """A number format that multiplies by 100: a ``%`` outside quotes, escapes and brackets."""
    return "%" in _QUOTED.sub("", code)


def _scan_sheet(xml: bytes, sheet: str, percent_styles: frozenset[int], facts: CellFacts) -> None:
    styles_used = bool(percent_styles) and any(
        f's="{index}"'.encode() in xml for index in percent_styles
    )
    if not styles_used and _FORMULA_TAG.search(xml) is None:
        return
    row, col = -1, -1
    for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        name = _local(element.tag)
        if event == "start" and name == "row":
            row = _number(element.get("r"), row + 1)
            col = -1
        elif event == "end" and name == "c":
            row, col = _position(element.get("r"), row, col + 1)
            _cell(element, sheet, (row, col), percent_styles, facts)
            element.clear()


def _number(text: str | None, default: int) -> int:
    """A 1-based row number as an index from 0; ``default`` when absent or unreadable."""
    return int(text) - 1 if text and text.isdigit() and int(text) > 0 else default


def _position(ref: str | None, row: int, col: int) -> Position:
    match = _CELL_REF.match(ref or "")
    if match is None:
        return row, col
    letters, digits = match.groups()
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return int(digits) - 1, number - 1


def _cell(
    element: ElementTree.Element,
    sheet: str,
    position: Position,
    percent_styles: frozenset[int],
    facts: CellFacts,
) -> None:
    children = {_local(child.tag): child for child in element}
    value = children.get("v")
    cell_type = element.get("t", "n")
    saved = value is not None and (bool(value.text) or cell_type in _TEXT_TYPES)
    if "f" in children and not saved:  # openpyxl writes <v></v>, others no <v> at all
        facts.add(facts.uncomputed, sheet, position)
    style = element.get("s", "")
    numeric = cell_type == "n" and value is not None and bool(value.text)
    if numeric and style.isdigit() and int(style) in percent_styles:
        facts.add(facts.percent, sheet, position)


# --- OpenDocument -------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CELLS = (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell")
_MAX_REPEAT_MARKED = 10_000
"""At most this many positions are marked for one repeated cell (a repeat of identical filled
cells; the pre-check has bounded how far filled cells reach)."""


class _OdsScan:
    """expat over ``content.xml``: each table's name, and its cells' positions."""

    def __init__(self) -> None:
        self.facts = CellFacts()
        self.sheet: str | None = None
        self.row = 0
        self.col = 0
        self.row_repeat = 1

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == f"{_TABLE} table":
            self.sheet, self.row = attributes.get(f"{_TABLE} name", ""), 0
        elif name == f"{_TABLE} table-row":
            self.col, self.row_repeat = 0, _repeat(attributes, "number-rows-repeated")
        elif name in _CELLS and self.sheet is not None:
            repeat = _repeat(attributes, "number-columns-repeated")
            self._mark(attributes, repeat)
            self.col += repeat

    def end(self, name: str) -> None:
        if name == f"{_TABLE} table-row":
            self.row += self.row_repeat
        elif name == f"{_TABLE} table":
            self.sheet = None

    def _mark(self, attributes: dict[str, str], repeat: int) -> None:
        value_type = attributes.get(f"{_OFFICE} value-type")
        formula = f"{_TABLE} formula" in attributes
        table = None
        if value_type == "percentage":
            table = self.facts.percent
        elif formula and value_type is None:
            table = self.facts.uncomputed
        if table is None or self.sheet is None:
            return
        rows = range(self.row, self.row + min(self.row_repeat, _MAX_REPEAT_MARKED))
        cols = range(self.col, self.col + min(repeat, _MAX_REPEAT_MARKED // len(rows)))
        for row in rows:
            for col in cols:
                self.facts.add(table, self.sheet, (row, col))


def _repeat(attributes: dict[str, str], name: str) -> int:
    try:
        return max(1, int(attributes.get(f"{_TABLE} {name}", "1")))
    except ValueError:
        return 1


def _ods_facts(data: bytes) -> CellFacts:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read("content.xml")
    if b"percentage" not in content and b"formula" not in content:
        return CellFacts()
    scan = _OdsScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.Parse(content, True)
    return scan.facts


# --- legacy xls ---------------------------------------------------------------------------


def _xls_facts(data: bytes) -> CellFacts:
    """Percent-formatted number cells of a BIFF workbook, through xlrd's format records (the
    only reader here that exposes them; a .xls is rare enough for its pure-Python pace)."""
    import xlrd  # only a worker reading an .xls pays for the import

    facts = CellFacts()
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    try:
        percent_xfs = {
            index
            for index, xf in enumerate(book.xf_list)
            if xf.format_key in _PERCENT_BUILTINS
            or is_percent_format(getattr(book.format_map.get(xf.format_key), "format_str", ""))
        }
        if not percent_xfs:
            return facts
        for index, name in enumerate(book.sheet_names()):
            sheet = book.sheet_by_index(index)
            for row in range(sheet.nrows):
                for col, cell in enumerate(sheet.row(row)):
                    if cell.ctype == xlrd.XL_CELL_NUMBER and cell.xf_index in percent_xfs:
                        facts.add(facts.percent, name, (row, col))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return facts
