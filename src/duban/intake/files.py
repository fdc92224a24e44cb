"""Received files, from bytes to cells: the one import for intake code that reads workbooks.

The order of use, for each file found in a message::

    kind = sniff(data, filename)            # by content: units rename files
    if kind is Kind.ZIP:
        found = unpack_archive(data, limits, path=(filename,))   # then each file in turn
    precheck(data, kind, limits)            # FileRejected before any parser runs
    with WorkbookReader() as reader:        # isolated workers, one per core, which
        results = reader.read_many([(data, kind), ...])   # pre-check each file, then parse it

A ``FileRejected`` carries a stable ``code``; ``is_hostile(code)`` says whether to quarantine
the file or to refuse it with the advice ``describe(code, detail, language)`` gives.
"""

from __future__ import annotations

from .archive import unpack_archive
from .limits import Limits
from .parse import CellValue, Grid, ParsedWorkbook, parse_workbook
from .precheck import precheck
from .reader import WorkbookReader
from .reasons import CODES, FileRejected, describe, is_hostile
from .sniff import WORKBOOK_KINDS, Kind, sniff

__all__ = [
    "CODES",
    "WORKBOOK_KINDS",
    "CellValue",
    "FileRejected",
    "Grid",
    "Kind",
    "Limits",
    "ParsedWorkbook",
    "WorkbookReader",
    "describe",
    "is_hostile",
    "parse_workbook",
    "precheck",
    "sniff",
    "unpack_archive",
]
