"""What a received file is, from its bytes: units rename files, phones invent names.

A workbook saved as ``.xlsx`` and renamed ``.xls`` (or the reverse) is common, so the name
never decides; it only refines the verdict on a file too damaged to say for itself.
"""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum

from duban.implement.intake.cfb import OLE_MAGIC, CompoundFileError, root_names
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.zipread import directory_of

_PDF = b"%PDF-"
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SNIFF_MAX_DIRECTORY = 4 * 1024 * 1024
"""Beyond this the directory is not parsed here; the pre-check refuses such a file anyway."""
_CONTENT_TYPES = "[content_types].xml"
_WORKBOOK_TYPE = re.compile(
    rb"application/vnd\.(?:openxmlformats-officedocument\.spreadsheetml\.(?:sheet|template)"
    rb"|ms-excel\.(?:sheet|template|addin)\.(?P<macro>macroEnabled))\.main\+xml",
    re.IGNORECASE,
)
_OOXML_DOCUMENT = re.compile(rb"\.main\+xml|\.main\b", re.IGNORECASE)
_XLSB_TYPE = re.compile(rb"application/vnd\.ms-excel\.sheet\.binary\.macroEnabled\.main", re.I)
_ODF_ENCRYPTED = b"encryption-data"
"""In an ODF manifest: the entry is encrypted (a document saved with a password)."""
_ODF_SPREADSHEET = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")


class Kind(StrEnum):
    XLSX = "xlsx"
    XLSM = "xlsm"
    """An OOXML workbook of the macro-enabled type (it may or may not hold macros)."""
    XLS = "xls"
    """A compound file with a Workbook (or Excel 95 Book) stream: legacy Excel, WPS .et."""
    ODS = "ods"
    ENCRYPTED = "encrypted"
    """A document with a password to open: a compound file holding an EncryptedPackage (an
    OOXML file), or an OpenDocument file whose manifest declares encrypted entries."""
    XLSB = "xlsb"
    """An Excel binary workbook, which no reader of duban's reads."""
    ZIP = "zip"
    """A zip that is no document: an archive to unpack."""
    OTHER_OLE = "other-ole"
    """Any other compound file (.doc, .ppt, .msg) or one too damaged to tell."""
    PDF = "pdf"
    OTHER = "other"


WORKBOOK_KINDS = frozenset({Kind.XLSX, Kind.XLSM, Kind.XLS, Kind.ODS})
"""The kinds a worker can read."""
UNREADABLE_WORKBOOK_KINDS = frozenset({Kind.ENCRYPTED, Kind.XLSB})
"""Workbooks (or, encrypted, probably workbooks) that no reader here can open: the unit is told
what to change, never that nothing was attached."""


def refusal(kind: Kind) -> FileRejected | None:
    """Why a file of this kind is not read: it has a password, it is an .xlsb, or it is no
    workbook at all; None for a kind the workers read."""
    if kind is Kind.ENCRYPTED:
        return FileRejected("encrypted")
    if kind is Kind.XLSB:
        return FileRejected("xlsb")
    if kind not in WORKBOOK_KINDS:
        return FileRejected("not-a-workbook", {"kind": kind.value})
    return None


def sniff(data: bytes, filename: str | None = None) -> Kind:
    """The kind of ``data`` by content; ``filename`` only names a damaged zip a workbook."""
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data)
    if data.startswith(_ZIP_STARTS):
        return _zip_kind(data, filename)
    if _PDF in data[:1024]:
        return Kind.PDF
    return Kind.OTHER


def _ole_kind(data: bytes) -> Kind:
    try:
        names = {name.casefold() for name in root_names(data)}
    except CompoundFileError:
        return Kind.OTHER_OLE
    if "encryptedpackage" in names:
        return Kind.ENCRYPTED
    if "workbook" in names or "book" in names:
        return Kind.XLS
    return Kind.OTHER_OLE


def _zip_kind(data: bytes, filename: str | None) -> Kind:
    directory = directory_of(data)
    if directory is not None and directory.size > _SNIFF_MAX_DIRECTORY:
        return Kind.ZIP
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _package_kind(archive)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        if filename is not None and filename.lower().endswith(_WORKBOOK_SUFFIXES):
            return Kind.XLSX  # a damaged workbook: the pre-check will call it unreadable
        return Kind.OTHER


def _package_kind(archive: zipfile.ZipFile) -> Kind:
    infos = {info.filename.lower(): info for info in archive.infolist()}
    mimetype = infos.get("mimetype")
    if mimetype is not None and mimetype.file_size <= 200:
        declared = archive.read(mimetype).strip()
        if declared not in _ODF_SPREADSHEET:
            return Kind.OTHER
        manifest = infos.get("meta-inf/manifest.xml")
        small = manifest is not None and manifest.file_size <= 1024 * 1024
        if small and manifest is not None and _ODF_ENCRYPTED in archive.read(manifest):
            return Kind.ENCRYPTED
        return Kind.ODS
    types = infos.get(_CONTENT_TYPES)
    if types is None:
        return Kind.ZIP
    content = archive.read(types) if types.file_size <= 1024 * 1024 else b""
    found = _WORKBOOK_TYPE.search(content)
    if found is not None:
        return Kind.XLSM if found.group("macro") else Kind.XLSX
    if _XLSB_TYPE.search(content) or "xl/workbook.bin" in infos:
        return Kind.XLSB
    if "xl/workbook.xml" in infos:  # a producer that left out the content type
        return Kind.XLSM if "xl/vbaproject.bin" in infos else Kind.XLSX
    if _OOXML_DOCUMENT.search(content):
        return Kind.OTHER  # a Word or PowerPoint file
    return Kind.ZIP
