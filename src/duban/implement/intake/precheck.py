"""The checks every received file passes before any parser sees it.

They only count, compare and pattern-match: the zip directory, each member read in chunks
against a running cap, and the facts inside the XML that make parsers allocate (furthest cell,
declared string count). ``reader``'s isolated workers run them on each file just before parsing
it, under the same memory cap and time limit; ``precheck`` can also be called on its own.
Anything they let through is parsed in that worker; they exist so that almost nothing hostile
reaches a parser, and so that the refusal says why.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from duban.implement.intake.cfb import CompoundFileError, root_names
from duban.implement.intake.limits import Limits
from duban.implement.intake.odsscan import OdsExtent
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import Kind, refusal
from duban.implement.intake.xmlscan import (
    SheetExtent,
    check_no_dtd,
    check_relationships,
    check_shared_strings,
    regions,
)
from duban.implement.intake.zipread import Budget, chunks, open_zip

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")

_MACROS = ("vbaproject.bin", "vbaprojectsignature.bin")
_MACRO_FOLDERS = ("xl/macrosheets/", "xl/dialogsheets/", "basic/", "scripts/")
_EXTERNAL_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/")
_EMBEDDED_FOLDERS = ("xl/embeddings/", "xl/activex/")
_OLE_MACROS = frozenset({"_vba_project_cur"})
"""The storage Excel keeps a legacy workbook's VBA project in."""


def precheck(data: bytes, kind: Kind, limits: Limits = Limits()) -> None:  # noqa: B008 - frozen
    """Raise ``FileRejected`` unless ``data`` (sniffed as ``kind``) is safe to hand a parser
    (a workbook) or to unpack (an archive)."""
    if not data:
        raise FileRejected("empty")
    if len(data) > limits.max_file_bytes:
        raise FileRejected(
            "too-large", {"size_mb": len(data) / 2**20, "limit_mb": limits.max_file_bytes / 2**20}
        )
    if kind is Kind.XLS:
        _check_compound_file(data)
    elif kind is Kind.ZIP:
        check_archive(data, limits)
    elif kind in (Kind.XLSX, Kind.XLSM, Kind.ODS):
        _PackageCheck(data, kind, limits).run()
    else:
        raise refusal(kind) or FileRejected("not-a-workbook", {"kind": kind.value})


def check_archive(data: bytes, limits: Limits, budget: Budget | None = None) -> None:
    """An archive to unpack: directory, declared and actual sizes; its members are checked
    one by one once unpacked."""
    budget = budget or Budget(limits)
    with open_zip(data, limits) as archive:
        infos = archive.infolist()
        budget.check_declared(infos)
        for info in infos:
            for _ in chunks(archive, info, budget):
                pass


def _check_compound_file(data: bytes) -> None:
    """Legacy .xls: only the root's names are cheap to read; a VBA project is refused."""
    try:
        names = {name.casefold() for name in root_names(data)}
    except CompoundFileError as exc:
        raise FileRejected("unreadable", {"reason": str(exc)}) from exc
    if names & _OLE_MACROS:
        raise FileRejected("macros", {"part": "_VBA_PROJECT_CUR"})


class _PackageCheck:
    """One pass over an OOXML or ODF package: names first, then every member's bytes."""

    def __init__(self, data: bytes, kind: Kind, limits: Limits) -> None:
        self.data = data
        self.kind = kind
        self.limits = limits
        self.cells = 0

    def run(self) -> None:
        with open_zip(self.data, self.limits) as archive:
            infos = archive.infolist()
            _check_names(infos)
            budget = Budget(self.limits)
            budget.check_declared(infos)
            for info in infos:
                self._member(archive, info, budget)

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> None:
        stream = chunks(archive, info, budget)
        first = next(stream, b"")
        _check_magic(first, info.filename)
        # Every member is scanned, pictures too: a part is parsed as whatever the relationships
        # say it is, and a parser skips bytes before the first tag.
        head = first.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(_UTF16_STARTS):
            raise FileRejected("unreadable", {"part": info.filename, "reason": "UTF-16 XML"})
        if self.kind is Kind.ODS:
            self._ods_member(info, first, stream)
        else:
            self._ooxml_member(info, first, stream)

    def _ooxml_member(self, info: zipfile.ZipInfo, first: bytes, rest: Iterator[bytes]) -> None:
        part = info.filename
        extent = SheetExtent(part, self.limits)
        rels = part.lower().endswith(".rels")  # OPC finds relationships by this name alone
        for region in regions(_chain(first, rest)):
            check_no_dtd(region, part)
            if rels:
                check_relationships(region, part)
            extent.feed(region)
            extent.feed_dimension(region)
            check_shared_strings(region, part, info.file_size, self.limits)
        self._add_cells(part, extent.rows, extent.cols)

    def _ods_member(self, info: zipfile.ZipInfo, first: bytes, rest: Iterator[bytes]) -> None:
        part = info.filename
        if part.lower() != "content.xml":
            for region in regions(_chain(first, rest)):
                check_no_dtd(region, part)
            return
        extent = OdsExtent(part, self.limits)
        for chunk in _chain(first, rest):
            check_no_dtd(chunk, part)  # expat reports a DTD too; this also covers a split one
            extent.feed(chunk)
        extent.feed(b"", final=True)

    def _add_cells(self, part: str, rows: int, cols: int) -> None:
        self.cells += rows * cols
        if self.cells > self.limits.max_cells:
            raise FileRejected("absurd-dimension", {"part": part, "rows": rows, "cols": cols})


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _check_names(infos: list[zipfile.ZipInfo]) -> None:
    """What a member's name alone gives away: macros, links, embedded objects, duplicates."""
    seen: set[str] = set()
    for info in infos:
        name = info.filename.replace("\\", "/").lower()
        if name in seen:
            raise FileRejected("unreadable", {"part": info.filename, "reason": "duplicate part"})
        seen.add(name)
        if name.endswith(_MACROS) or name.startswith(_MACRO_FOLDERS):
            raise FileRejected("macros", {"part": info.filename})
        if name.startswith(_EXTERNAL_PARTS):
            raise FileRejected("external-links", {"part": info.filename})
        if name.startswith(_EMBEDDED_FOLDERS):
            raise FileRejected("embedded-objects", {"part": info.filename})


def _check_magic(first: bytes, part: str) -> None:
    """A zip or compound file inside a workbook is an embedded document in disguise."""
    if first.startswith(_ZIP_MAGIC):
        raise FileRejected("nested-archive", {"part": part})
    if first.startswith(_OLE_MAGIC):
        raise FileRejected("embedded-objects", {"part": part})
