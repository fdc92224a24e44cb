"""Read the hidden ``_duban`` sheet of a returned workbook, fast and without openpyxl.

Intake must tell which unit, deliverable and period a file belongs to before anything else, for
every attachment, including the hostile and the broken. This reader opens only the parts it
needs (package and workbook relationships, the workbook, the metadata sheet, shared strings),
refuses DTDs and oversized parts, and understands the cell forms other producers write: Excel
and WPS use shared strings, LibreOffice may write inline or formula strings.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from xml.etree import ElementTree

from duban.adapters.xlsx.errors import WorkbookError
from duban.adapters.xlsx.layout import METADATA_KEYS, METADATA_SHEET
from duban.adapters.xlsx.token import TemplateIdentity

MAX_MEMBERS = 10_000
MAX_PART_BYTES = 64 * 1024 * 1024
"""Largest uncompressed part read (shared strings of a full form stay far below)."""
MAX_SMALL_PART_BYTES = 4 * 1024 * 1024
"""Relationships, workbook and the metadata sheet are a few KB in any honest file."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_RESAVE_HINT = "ask the unit to fill in the template attached to the notice and send it again"

Cell = tuple[str, str]
"""("s", index) for a shared string, ("v", text) for a value held in the cell itself."""


def read_metadata(data: bytes) -> dict[str, str]:
    """The metadata sheet's key/value rows; ``WorkbookError`` says plainly why not."""
    archive = _open(data)
    with archive:
        package = _Package(archive)
        workbook = package.office_document()
        rels = package.relationships(workbook)
        sheet = package.parse(_sheet_target(package.parse(workbook), rels, workbook))
        rows = _rows(sheet)
        shared = _shared_strings_path(rels)
        needed = {int(value) for kind, value in _cells(rows) if kind == "s"}
        strings = package.shared_strings(shared, needed) if needed else {}
    return _metadata(rows, strings)


def identity_of(metadata: Mapping[str, str]) -> TemplateIdentity:
    """The identity a token was signed for, from metadata read back from a workbook."""
    try:
        version = int(metadata["template_version"])
        return TemplateIdentity(
            campaign_id=metadata["campaign"],
            deliverable_id=metadata["deliverable"],
            period=metadata["period"],
            unit_id=metadata["unit_id"],
            template_version=version,
        )
    except (KeyError, ValueError) as exc:
        raise WorkbookError(
            f"the duban metadata sheet is damaged ({exc})", hint=_RESAVE_HINT
        ) from exc


def _open(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise WorkbookError("the file is empty")
    if data.startswith(_OLE_MAGIC):
        raise WorkbookError(
            "this is an old .xls file or a password-protected workbook, not an .xlsx file",
            hint="save it as .xlsx without a password and send it again",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookError("not an Excel .xlsx file (it is not a zip archive)") from exc
    if len(archive.infolist()) > MAX_MEMBERS:
        archive.close()
        raise WorkbookError(f"refused: the file holds more than {MAX_MEMBERS} parts")
    return archive


class _Package:
    """The parts of an OOXML zip, looked up case-insensitively as the format requires."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = {info.filename.lower(): info for info in archive.infolist()}

    def read(self, name: str, limit: int = MAX_SMALL_PART_BYTES) -> bytes:
        info = self.names.get(name.lower())
        if info is None:
            raise WorkbookError(f"damaged workbook: part {name} is missing", hint=_RESAVE_HINT)
        if info.file_size > limit:
            raise WorkbookError(f"refused: part {name} is larger than {limit // 2**20} MB")
        try:
            content = self.archive.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
            raise WorkbookError(f"damaged workbook: cannot unpack {name} ({exc})") from exc
        if _DTD.search(content):
            raise WorkbookError(f"refused: part {name} declares a DTD")
        return content

    def parse(self, name: str) -> ElementTree.Element:
        return _parse_xml(self.read(name), name)

    def office_document(self) -> str:
        """The workbook part, found from the package relationships as Excel does."""
        if "_rels/.rels" in self.names:
            for rel_type, target in _relations(self.parse("_rels/.rels"), "").values():
                if rel_type.endswith("/officeDocument"):
                    return target
        return "xl/workbook.xml"

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, file = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", file + ".rels")
        if rels.lower() not in self.names:
            raise WorkbookError(f"damaged workbook: {rels} is missing", hint=_RESAVE_HINT)
        return _relations(self.parse(rels), folder)

    def shared_strings(self, name: str | None, needed: set[int]) -> dict[int, str]:
        """Only the strings at ``needed`` indices, stopping once the last is read."""
        if name is None:
            raise WorkbookError("damaged workbook: shared strings are used but missing")
        content = self.read(name, MAX_PART_BYTES)
        found: dict[int, str] = {}
        last = max(needed)
        index = 0
        try:
            for _, element in ElementTree.iterparse(io.BytesIO(content), events=("end",)):
                if _local(element.tag) != "si":
                    continue
                if index in needed:
                    found[index] = _string_text(element)
                element.clear()
                if index >= last:
                    break
                index += 1
        except ElementTree.ParseError as exc:
            raise WorkbookError(f"damaged workbook: {name} is not well-formed XML") from exc
        missing = needed - found.keys()
        if missing:
            raise WorkbookError(f"damaged workbook: shared string {min(missing)} is missing")
        return found


def _parse_xml(content: bytes, name: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise WorkbookError(f"damaged workbook: {name} is not well-formed XML") from exc


def _local(tag: str) -> str:
    """A tag or attribute name without its namespace: strict OOXML uses other namespaces."""
    return tag.rpartition("}")[2]


def _relations(root: ElementTree.Element, folder: str) -> dict[str, tuple[str, str]]:
    """Id → (type, part name) of internal relationships, targets resolved against ``folder``."""
    found: dict[str, tuple[str, str]] = {}
    for rel in root:
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
    return found


def _sheet_target(
    workbook: ElementTree.Element, rels: dict[str, tuple[str, str]], workbook_name: str
) -> str:
    for element in workbook.iter():
        if _local(element.tag) == "sheet" and element.get("name") == METADATA_SHEET:
            rel_id = next((v for k, v in element.attrib.items() if _r_id(k)), None)
            if rel_id is None or rel_id not in rels:
                raise WorkbookError(f"damaged workbook: {workbook_name} points nowhere")
            return rels[rel_id][1]
    raise WorkbookError(
        f"no duban metadata sheet ({METADATA_SHEET}): this file was not made from a duban "
        "template, or the sheet was removed",
        hint=_RESAVE_HINT,
    )


def _r_id(attribute: str) -> bool:
    """The relationship id attribute (r:id in any namespace), not a plain ``id``."""
    return attribute.startswith("{") and _local(attribute) == "id"


def _shared_strings_path(rels: dict[str, tuple[str, str]]) -> str | None:
    for rel_type, target in rels.values():
        if rel_type.endswith("/sharedStrings"):
            return target
    return None


def _rows(sheet: ElementTree.Element) -> list[tuple[Cell | None, Cell | None]]:
    """(column A, column B) of every row of the sheet."""
    rows: list[tuple[Cell | None, Cell | None]] = []
    for row in sheet.iter():
        if _local(row.tag) != "row":
            continue
        cells: dict[int, Cell] = {}
        position = 0
        for cell in row:
            if _local(cell.tag) != "c":
                continue
            ref = cell.get("r")
            position = _column_index(ref) if ref else position + 1
            if position in (1, 2):
                cells[position] = _cell(cell)
        rows.append((cells.get(1), cells.get(2)))
    return rows


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index


def _cell(cell: ElementTree.Element) -> Cell:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        holder = next((c for c in cell if _local(c.tag) == "is"), None)
        return ("v", "" if holder is None else _string_text(holder))
    value = next((c.text or "" for c in cell if _local(c.tag) == "v"), "")
    if kind == "s":
        if not value.strip().isdigit():
            raise WorkbookError("damaged workbook: a shared string reference is not a number")
        return ("s", value.strip())
    return ("v", value)  # str (formula result), n, b, d: the text of <v>


def _cells(rows: list[tuple[Cell | None, Cell | None]]) -> Iterator[Cell]:
    for pair in rows:
        yield from (cell for cell in pair if cell is not None)


def _string_text(element: ElementTree.Element) -> str:
    """Text of an <si> or <is>: plain <t> or rich-text runs, without phonetic (rPh) runs."""
    parts: list[str] = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), "".join(parts))


def _metadata(
    rows: list[tuple[Cell | None, Cell | None]], strings: dict[int, str]
) -> dict[str, str]:
    def text(cell: Cell | None) -> str:
        if cell is None:
            return ""
        kind, value = cell
        return strings[int(value)] if kind == "s" else value

    found: dict[str, str] = {}
    for key_cell, value_cell in rows:
        key = text(key_cell).strip()
        if not key:
            continue
        if key in found:
            raise WorkbookError(f"the duban metadata sheet is damaged: {key!r} appears twice")
        found[key] = text(value_cell)
    missing = [k for k in METADATA_KEYS if k not in found]
    if missing:
        raise WorkbookError(
            f"the duban metadata sheet is damaged: {', '.join(missing)} missing",
            hint=_RESAVE_HINT,
        )
    return found
