"""How big a received file may be, everywhere it is measured: pre-check, unpacking, worker.

The defaults are generous for any duban form (at most 100,000 data rows) and still far below
what makes a parser allocate gigabytes; ``Limits.for_forms`` tightens rows and columns to a
campaign's forms, so a value typed into a far-away cell is refused before anything parses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..xlsx.layout import FIRST_DATA_ROW

if TYPE_CHECKING:  # pydantic is not needed (nor wanted) in the worker processes
    from ..forms import Form

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

    @classmethod
    def for_forms(cls, forms: Iterable[Form], *, slack: int = 2) -> Limits:
        """Rows and columns bounded by the campaign's forms, with ``slack`` times their size
        (plus room for the instructions sheet) so a unit adding a few notes is not refused."""
        sheets = [sheet for form in forms for sheet in form.sheets]
        if not sheets:
            return cls()
        rows = FIRST_DATA_ROW + max(s.max_rows for s in sheets)
        cols = max(len(s.columns) for s in sheets)
        described = sum(len(s.columns) + 2 for s in sheets) + 20  # the instructions sheet
        max_rows = slack * max(rows, described) + 200
        max_cols = slack * cols + 50
        return cls(max_rows=max_rows, max_cols=max_cols, max_cells=4 * max_rows * max_cols)
