"""How big a received file may be, everywhere it is measured: pre-check, unpacking, worker.

The limits stop bombs, not big honest workbooks: they are generous for any duban form (at most
100,000 data rows) plus whatever a unit adds beside it (a sheet of notes, a pasted table of a
thousand rows), and still far below what makes a parser allocate gigabytes (a cell at XFD1048576,
a billion repeated cells). They once followed the campaign's forms, and honest replies with a
192 × 74 sheet of notes were quarantined as bombs; a sheet outside the form is now read and
ignored by validation.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied to one received file (or one archive and everything in it)."""

    max_file_bytes: int = 20 * MiB
    """The file as received; mail servers rarely pass more."""
    max_entries: int = 1_000
    """Members of a zip (a filled form has 10–30; pictures add one each)."""
    max_uncompressed_bytes: int = 100 * MiB
    """Running total of what every member unpacks to, counted while unpacking."""
    max_ratio: int = 100
    """Uncompressed ÷ compressed size of a member larger than ``ratio_floor_bytes``."""
    ratio_floor_bytes: int = 1 * MiB
    """Small parts compress very well and harmlessly; the ratio is judged above this size."""
    max_rows: int = 120_000
    """Last row a sheet may reach (cell references, ``<dimension>``, rows a worker sees)."""
    max_cols: int = 1_024
    """Last column a sheet may reach."""
    max_cells: int = 2_000_000
    """Rows × columns of a sheet's grid from A1, summed over the workbook's sheets."""
    max_shared_strings: int = 2_000_000
    """Declared size of the shared-string table (a parser reserves memory for it up front)."""
    max_archive_depth: int = 1
    """Archives unpacked inside one another: 1 unpacks a zip but not a zip inside it."""
