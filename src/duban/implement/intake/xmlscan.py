"""Scanning a package's XML parts for what would hurt a parser, without parsing them.

A parser sizes its grid from the furthest cell and its string table from a declared count: a
7.7 KB file with cells A1 and XFD1048576, or a shared-string count of 4e9, made calamine abort
the whole process asking for hundreds of gigabytes (NOTES.md, "Excel"). Regular expressions over
the raw bytes find those facts fast (a filled form in well under a millisecond) and err on the
side of refusing. The bytes arrive in regions that end just before a ``<``: since ``<`` cannot
occur inside a tag, every start tag lies whole inside one region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from duban.implement.intake.limits import Limits
from duban.implement.intake.reasons import FileRejected

_P = rb"(?:[A-Za-z_][\w.-]*:)?"
"""An optional namespace prefix: strict OOXML and some producers write ``<x:c>``."""
_VALUE = rb"""(?:"[^"]*"|'[^']*')"""
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_CELL_ANY = re.compile(rb"<" + _P + rb"c[\s/>]")
_CELL_TAG = re.compile(
    rb"<" + _P + rb"c(?:\s+(?:r\s*=\s*[\"']([^\"'<]*)[\"']|[\w:.-]+\s*=\s*" + _VALUE + rb"))*\s*/?>"
)
"""A whole cell start tag, attribute by attribute, capturing ``r`` (quoted either way)."""
_CELL_FIRST_R = re.compile(rb"<" + _P + rb"c\s+r\s*=\s*[\"']([^\"'<]*)[\"']")
"""The same when ``r`` comes first, as every producer writes it: cheaper, and as exact."""
_PLAIN_CELL = re.compile(rb"<c(?=[\s/>])(?:\s+r\s*=\s*[\"']([^\"'<]*)[\"'])?")
"""Every cell start tag without a prefix, with its ``r`` when that comes first (else ``b""``):
one pass for what the two patterns above find, where no prefixed cell tag can be."""
_ROW_SPLIT = re.compile(rb"<" + _P + rb"row[\s/>]")
_ROW_REF = re.compile(rb"<" + _P + rb"row\b[^<]*?\sr\s*=\s*[\"']\s*(\d+)")
_DIMENSION = re.compile(rb"<" + _P + rb"dimension\b[^<]*?\sref\s*=\s*[\"']([^\"']*)[\"']")
_SST = re.compile(rb"<" + _P + rb"sst(\s[^<]*)?>")
_COUNT = re.compile(rb"\s(count|uniqueCount)\s*=\s*[\"']([^\"']*)")
_RELATIONSHIP = re.compile(rb"<" + _P + rb"Relationship(\s[^<]*)")
_EXTERNAL = re.compile(rb"\sTargetMode\s*=\s*[\"']\s*External", re.IGNORECASE)
_TYPE = re.compile(rb"\sType\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(rb"\s*\$?([A-Za-z]{1,7})\$?(\d{1,12})\s*")
_REFS = re.compile(rb"(?:\$?[A-Z]{1,3}\$?\d{1,7} )*")
"""Space-separated plain references, the form every producer writes: read in bulk."""
_LETTERS = re.compile(rb"[A-Z]+")
_DIGITS = re.compile(rb"\d+")
_ABSURD = (10**12, 10**12)


def regions(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of ``chunks`` regrouped so each region ends just before a ``<``."""
    pending: list[bytes] = []
    for chunk in chunks:
        cut = chunk.rfind(b"<")
        if cut < 0:
            pending.append(chunk)
            continue
        pending.append(chunk[:cut])
        region = b"".join(pending)
        if region:
            yield region
        pending = [chunk[cut:]]
    tail = b"".join(pending)
    if tail:
        yield tail


def check_no_dtd(region: bytes, part: str) -> None:
    if b"<!" in region and _DTD.search(region):  # the substring test first: far cheaper
        raise FileRejected("doctype", {"part": part})


def check_relationships(region: bytes, part: str) -> None:
    """External targets are refused, except hyperlinks (Excel makes one of every typed e-mail
    address and web address, and following one needs a click)."""
    for match in _RELATIONSHIP.finditer(region):
        attributes = match.group(1)
        if _EXTERNAL.search(attributes):
            kind = _TYPE.search(attributes)
            if kind is None or not kind.group(1).endswith(b"/hyperlink"):
                target = kind.group(1).decode("utf-8", "replace") if kind else ""
                raise FileRejected("external-links", {"part": part, "type": target[-60:]})


class SheetExtent:
    """How far the cells of one XML part reach, as calamine would place them.

    A cell with ``r`` sits there; one without sits after the previous cell of its row, and its
    row after the previous row unless the row has ``r``. When every cell has ``r`` (what Excel,
    WPS, LibreOffice and openpyxl write) one pass of C-speed regular expressions suffices; a
    region with cells lacking ``r`` adds, per row, the count of such cells to the furthest
    column (a bound, never an underestimate).
    """

    def __init__(self, part: str, limits: Limits) -> None:
        self.part = part
        self.limits = limits
        self.rows = 0
        self.cols = 0
        self._explicit_cols = 0
        self._open_row_cells = 0
        self._rows_without_ref = 0
        self._row_refs = 0

    def feed(self, region: bytes) -> None:
        if b":c" in region:  # a prefixed cell tag may be here (<x:c …>)
            cells = len(_CELL_ANY.findall(region))
            refs = _CELL_FIRST_R.findall(region)
        else:
            refs = _PLAIN_CELL.findall(region)
            cells = len(refs)
        if len(refs) != cells or b"" in refs:
            refs = _CELL_TAG.findall(region)
        missing = cells - len(refs) + refs.count(b"")
        self._add_refs(refs)
        if missing:
            self._add_implied(region)
        elif refs:
            self._open_row_cells = 0
        self._check()

    def feed_dimension(self, region: bytes) -> None:
        for match in _dimensions(region):
            last = match.group(1).rpartition(b":")[2]
            if not _REF.fullmatch(last):
                continue  # only informative: parsers size nothing from a dimension they ignore
            rows, cols = _ref_position(last)
            if rows > self.limits.max_rows or cols > self.limits.max_cols:
                raise FileRejected(
                    "absurd-dimension", {"part": self.part, "rows": rows, "cols": cols}
                )

    def _add_refs(self, refs: list[bytes]) -> None:
        joined = b" ".join(refs) + b" "
        if _REFS.fullmatch(joined):
            rows = max(map(int, _DIGITS.findall(joined)), default=0)
            cols = max(map(_column, set(_LETTERS.findall(joined))), default=0)
        else:
            positions = [_ref_position(ref) for ref in refs if ref]
            rows = max((row for row, _ in positions), default=0)
            cols = max((col for _, col in positions), default=0)
        self.rows = max(self.rows, rows)
        self._explicit_cols = max(self._explicit_cols, cols)
        self.cols = max(self.cols, self._explicit_cols)

    def _add_implied(self, region: bytes) -> None:
        """Bound the positions of cells without ``r``, row by row."""
        segments = _ROW_SPLIT.split(region)
        rows_here = len(segments) - 1
        with_ref = len(_ROW_REF.findall(region))
        self._rows_without_ref += rows_here - with_ref
        self._row_refs = max([self._row_refs, *map(int, _ROW_REF.findall(region))])
        for index, segment in enumerate(segments):
            refs = _CELL_TAG.findall(segment)
            lacking = len(_CELL_ANY.findall(segment)) - len(refs) + refs.count(b"")
            if index == 0:
                lacking += self._open_row_cells
            self._open_row_cells = lacking
            # An r-less cell follows a cell of its own row, already seen.
            self.cols = max(self.cols, self._explicit_cols + lacking)
        self.rows = max(self.rows, self._row_refs + self._rows_without_ref)

    def _check(self) -> None:
        limits = self.limits
        if (
            self.rows > limits.max_rows
            or self.cols > limits.max_cols
            or self.rows * self.cols > limits.max_cells
        ):
            raise FileRejected(
                "absurd-dimension", {"part": self.part, "rows": self.rows, "cols": self.cols}
            )


def _dimensions(region: bytes) -> Iterator[re.Match[bytes]]:
    """The ``<dimension>`` tags of a region, matched only where the word occurs (near the top
    of a sheet): a substring search is far cheaper than running the pattern over the sheet."""
    at = region.find(b"dimension")
    while at >= 0:
        tag = region.rfind(b"<", 0, at)
        match = _DIMENSION.match(region, tag) if tag >= 0 else None
        if match is not None:
            yield match
        at = region.find(b"dimension", at + 1)


def check_shared_strings(region: bytes, part: str, declared_size: int, limits: Limits) -> None:
    """Refuse a string table whose declared size no honest part of this size could have."""
    if b"sst" not in region:
        return
    match = _SST.search(region)
    if match is None or match.group(1) is None:
        return
    counts = {name.decode(): _count(value) for name, value in _COUNT.findall(match.group(1))}
    unique = counts.get("uniqueCount", 0)
    total = counts.get("count", 0)
    # Each <si> takes at least five bytes ("<si/>"); allow some slack for producers' rounding.
    plausible = min(limits.max_shared_strings, declared_size // 5 + 1_000)
    if unique > plausible or total > 4 * limits.max_cells:
        raise FileRejected("absurd-shared-strings", {"part": part, "count": max(unique, total)})


def _count(value: bytes) -> int:
    """A declared count; one written other than in plain digits (an entity, say) counts as
    absurd, since a parser might still decode it."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 20 else 10**18


def _ref_position(ref: bytes) -> tuple[int, int]:
    """(row, column), both from 1, of a reference such as ``XFD1048576``; a reference this
    cannot read counts as absurdly far (a parser might read it as something huge)."""
    match = _REF.fullmatch(ref)
    if match is None:
        return _ABSURD
    return (int(match.group(2)), _column(match.group(1).upper()))


def _column(letters: bytes) -> int:
    column = 0
    for char in letters:
        column = column * 26 + char - 64
    return column
