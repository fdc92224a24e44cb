"""Sending what was reviewed: ``compile --send`` mails the files ``compile`` wrote earlier the
same day when nothing they are made from has changed since.

A coordinator compiles, opens the summary workbook and the bulletin, and only then sends. The
send used to write everything again (at 10,000 units, a 465,000-row workbook: most of a
minute) and mail files nobody had looked at, stamped with a later time. Now every compile
records a fingerprint of what it was made from — every unit's standing, every figure, the
version and file hash of each unit's rows, the bulletin's number, duban's version — and the
hashes of the files it wrote. A send whose fingerprint, taken now, is the same, on the same
day, with the files unchanged on disk, mails those files: the bulletin shows the time it was
reviewed at, which is still true. Anything else (a reply collected since, a deadline passed,
a file opened and saved in Excel, another day) writes them again, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

import duban
from duban.compile.model import CompileInput
from duban.ledger.schema import EventRow

WRITTEN = "compile.written"
"""The event a compile appends once its files are complete (``compile.outputs``)."""
REUSED = "compile.reused"
"""The event a send appends when it mails the files of an earlier compile."""
LEFT_OUT = frozenset({"as_of", "submissions"})
"""What a fingerprint leaves out: the moment (the day is compared on its own) and the rows,
which the versions used stand for."""


@dataclass(frozen=True)
class Reviewed:
    """An earlier compile whose files can be sent as they are."""

    as_of: datetime  # the moment those files show
    detail_rows: int
    units: int
    versions_used: list[tuple[str, int, str]]


def fingerprint(data: CompileInput, used: Sequence[tuple[str, int, str]], issue: int) -> str:
    """A digest of everything the summary and the bulletin are made from, but the moment."""
    head = {f.name: plain(getattr(data, f.name)) for f in fields(data) if f.name not in LEFT_OUT}
    body = {"duban": duban.__version__, "issue": issue, "used": [list(u) for u in used],
            "input": head}  # fmt: skip
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def digests(paths: Sequence[Path]) -> dict[str, str]:
    """Each file's SHA-256, by its path: what the compile wrote, to tell it was not changed."""
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def earlier(
    session: Session, data: CompileInput, digest: str, paths: Sequence[Path]
) -> Reviewed | None:
    """The period's last compile if its files can be sent for ``data``: the same fingerprint,
    the same local day, not later than now, and every file where it was, unchanged."""
    event = session.scalars(
        select(EventRow)
        .where(EventRow.campaign_id == data.campaign_id, EventRow.kind == WRITTEN,
               EventRow.subject == f"{data.deliverable_id}/{data.period}")
        .order_by(EventRow.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    payload: Mapping[str, Any] = (event.payload or {}) if event is not None else {}
    if payload.get("fingerprint") != digest or "as_of" not in payload:
        return None
    then = datetime.fromisoformat(payload["as_of"])
    if then > data.as_of or _day(then, data.zone) != _day(data.as_of, data.zone):
        return None
    if not _unchanged(payload.get("files") or {}, paths):
        return None
    used = [(str(u), int(v), str(s)) for u, v, s in payload["versions_used"]]
    return Reviewed(then, int(payload["detail_rows"]), int(payload["units"]), used)


def _unchanged(recorded: Mapping[str, str], paths: Sequence[Path]) -> bool:
    if set(recorded) != {str(p) for p in paths}:
        return False
    if not all(p.is_file() for p in paths):
        return False
    return digests(paths) == dict(recorded)


def _day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def plain(value: Any) -> Any:
    """``value`` as JSON the same in every process: sets sorted, models dumped, moments in
    ISO form. A type it does not know raises, so nothing is left out of a fingerprint."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, ZoneInfo | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=json.dumps)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise TypeError(f"a compile's fingerprint cannot hold a {type(value).__name__}")
