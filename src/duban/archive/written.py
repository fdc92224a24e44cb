"""Which event of the bag's log wrote each output file, and when.

An output records the day it is as of, not the instant; the event its command appended when it
wrote the file does (``rectification.ledger-written`` for a 整改台账, ``inspection.reported``
for a round's 督查汇总表 and 督查通报), and names the file by the path it was written to on the
coordinator's machine, ``…/out/<campaign>/<folder>/<name>``. The bag keeps ``out/<campaign>``
as ``data/outputs``, so a file is matched by the end of that path; the last event naming it
wrote what the bag holds (the same day again replaces the file).
"""

from __future__ import annotations

from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import EventRow
from duban.selfcheck.commands import LEDGER_WRITTEN

REPORTED = "inspection.reported"
PATH_KEYS = {LEDGER_WRITTEN: ("path",), REPORTED: ("workbook", "docx")}
Written = EventRow
"""The event that wrote a file (read, then left detached from its session)."""


def written_by(session: Session, campaign_id: str) -> dict[tuple[str, ...], Written]:
    """Per path under ``data/outputs`` (its parts), the last event that wrote it."""
    query = (
        select(EventRow)
        .where(EventRow.campaign_id == campaign_id, EventRow.kind.in_(PATH_KEYS))
        .order_by(EventRow.id)
    )
    found: dict[tuple[str, ...], Written] = {}
    for event in session.scalars(query):
        for key in PATH_KEYS[event.kind]:
            parts = PurePath(str((event.payload or {}).get(key, ""))).parts
            if campaign_id in parts:
                at = len(parts) - 1 - parts[::-1].index(campaign_id)
                found[parts[at + 1 :]] = event
    return found
