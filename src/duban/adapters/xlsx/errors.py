"""The one error the workbook layer reports to a person."""

from __future__ import annotations

from duban.errors import DubanError


class WorkbookError(DubanError):
    """A workbook cannot be used: not an xlsx, damaged, refused as hostile, or not from duban.

    The message says what is wrong in plain words, because it ends up in a reply to the unit
    that sent the file or in the coordinator's intake report.
    """
