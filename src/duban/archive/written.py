"""Which event of the bag's log wrote each output file, and when.

An output records the day it is as of, not the instant; the event its command appended when it
wrote the file does (``rectification.ledger-written`` for a 整改台账, ``inspection.reported``
for a round's 督查汇总表 and 督查通报), and names the file by the path it was written to on the
coordinator's machine, ``…/out/<campaign>/<folder>/<name>``. The bag keeps ``out/<campaign>``
as ``data/outputs``, so a file is matched by the end of that path; the last event naming it
wrote what the bag holds (the same day again replaces the file). A summary workbook's
``compile.written`` event (``COMPILED``) is found the same way: it says which moves of
rectification items its bulletin saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import EventRow
from duban.selfcheck.commands import LEDGER_WRITTEN

OUT = "out"
"""``Settings.outputs``: ``DUBAN_HOME/out``."""
REPORTED = "inspection.reported"
PATH_KEYS = {LEDGER_WRITTEN: ("path",), REPORTED: ("workbook", "docx")}
COMPILED = {"compile.written": ("workbook",)}
"""The event ``duban compile`` appends once it wrote a summary and its bulletin: which moves
of rectification items the bulletin saw (``archive.bulletins``)."""
Written = EventRow
"""The event that wrote a file (read, then left detached from its session)."""


def moment(event: Written, zone: ZoneInfo) -> str:
    """When the event wrote its file, in the campaign's zone (the day the file shows)."""
    return event.at.astimezone(zone).isoformat(timespec="minutes")


def written_by(
    session: Session, campaign_id: str, keys: Mapping[str, tuple[str, ...]] = PATH_KEYS
) -> dict[tuple[str, ...], Written]:
    """Per path under ``data/outputs`` (its parts), the last event that wrote it, of the
    kinds ``keys`` names with the payload keys that hold the paths."""
    query = (
        select(EventRow)
        .where(EventRow.campaign_id == campaign_id, EventRow.kind.in_(keys))
        .order_by(EventRow.id)
    )
    found: dict[tuple[str, ...], Written] = {}
    for event in session.scalars(query):
        for key in keys[event.kind]:
            parts = _parts(str((event.payload or {}).get(key, "")))
            at = _campaign_folder(parts, campaign_id)
            if at is not None:
                found[parts[at + 1 :]] = event
    return found


def _campaign_folder(parts: tuple[str, ...], campaign_id: str) -> int | None:
    """Where ``out/<campaign>`` ends in a path (None: written elsewhere, with ``--out``)."""
    for at in range(len(parts) - 2, 0, -1):
        if parts[at] == campaign_id and parts[at - 1] == OUT:
            return at
    return None


def _parts(path: str) -> tuple[str, ...]:
    """A path's parts, as written on a POSIX machine or on Windows."""
    return (PurePosixPath if "/" in path else PureWindowsPath)(path).parts
