"""Move the master's placeholder strings from inline strings into ``xl/sharedStrings.xml``.

openpyxl 3.1 writes every string inline in its sheet, so the unit's name would sit in each form
sheet's XML and every copy would have to recompress all of them. Moved into a small shared
strings part, a personalised copy rewrites that part alone, however many rows the sheets have.
Mixing inline and shared strings is valid SpreadsheetML and what Excel itself reads.
"""

from __future__ import annotations

import io
import re
import zipfile

from duban.adapters.xlsx.layout import PLACEHOLDER_MARKER, SHARED_STRINGS

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CONTENT_TYPES = "[Content_Types].xml"
_RELATIONSHIP_ID = "rIdDubanSharedStrings"

# An inline string cell exactly as openpyxl writes it: <c r=".." s=".." t="inlineStr"><is><t>..
_INLINE_CELL = re.compile(
    rb'<c (?P<attrs>[^>]*?)t="inlineStr"(?P<rest>[^>]*)>'
    rb"<is><t(?: [^>]*)?>(?P<text>[^<]*)</t></is></c>"
)


def externalise_placeholders(xlsx: bytes) -> bytes:
    """The same workbook with every string containing a placeholder made a shared string.

    Returns ``xlsx`` unchanged when no inline string holds a placeholder (a writer that
    already uses shared strings); ``MasterTemplate`` then checks where the placeholders are.
    """
    marker = PLACEHOLDER_MARKER.encode("utf-8")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
        infos = {info.filename: info for info in archive.infolist()}
    table: list[bytes] = []
    references: list[int] = []
    for name, content in parts.items():
        if name.startswith("xl/worksheets/") and marker in content:
            parts[name] = _share_cells(content, marker, table, references)
    if not table:
        return xlsx
    if SHARED_STRINGS in parts:
        raise RuntimeError(f"{SHARED_STRINGS} already exists; cannot merge placeholders into it")
    parts[SHARED_STRINGS] = _string_table(table, len(references))
    parts[_CONTENT_TYPES] = _insert_before(
        parts[_CONTENT_TYPES],
        b"</Types>",
        f'<Override PartName="/{SHARED_STRINGS}" ContentType="{_CONTENT_TYPE}"/>'.encode(),
    )
    parts[_WORKBOOK_RELS] = _insert_before(
        parts[_WORKBOOK_RELS],
        b"</Relationships>",
        f'<Relationship Id="{_RELATIONSHIP_ID}" Type="{_RELS_TYPE}" '
        f'Target="sharedStrings.xml"/>'.encode(),
    )
    return _zip(parts, infos)


def _share_cells(sheet: bytes, marker: bytes, table: list[bytes], references: list[int]) -> bytes:
    """Rewrite inline cells holding ``marker`` as references into ``table``; both lists are
    appended to (``references`` for the table's ``count``)."""

    def share(match: re.Match[bytes]) -> bytes:
        text = match.group("text")
        if marker not in text:
            return match.group(0)
        if text not in table:
            table.append(text)
        index = table.index(text)
        references.append(index)
        return b'<c %st="s"%s><v>%d</v></c>' % (match.group("attrs"), match.group("rest"), index)

    shared = _INLINE_CELL.sub(share, sheet)
    if marker in shared:
        raise RuntimeError("a placeholder is outside an inline string cell; openpyxl changed?")
    return shared


def _string_table(texts: list[bytes], references: int) -> bytes:
    # xml:space="preserve" so that a name with leading or trailing spaces keeps them.
    items = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % text for text in texts)
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{_MAIN_NS}" count="{references}" uniqueCount="{len(texts)}">'
    ).encode()
    return head + items + b"</sst>"


def _insert_before(xml: bytes, closing: bytes, element: bytes) -> bytes:
    at = xml.rfind(closing)
    if at < 0:
        raise RuntimeError(f"{closing.decode()} not found")
    return xml[:at] + element + xml[at:]


def _zip(parts: dict[str, bytes], infos: dict[str, zipfile.ZipInfo]) -> bytes:
    """Zip ``parts`` in their order, shared strings last (any order is valid in a package)."""
    buffer = io.BytesIO()
    names = [n for n in parts if n != SHARED_STRINGS] + [SHARED_STRINGS]
    date_time = infos[_CONTENT_TYPES].date_time
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, infos[name].date_time if name in infos else date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, parts[name])
    return buffer.getvalue()
