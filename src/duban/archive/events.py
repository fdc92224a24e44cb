"""The campaign's event log as JSON lines, and the check of an archived one.

One event a line, in id order: ``{"id", "at", "campaign_id", "kind", "subject", "actor",
"payload"}`` with sorted keys. The writer returns the count, the last id and the SHA-256 of the
file, which go into ``bag-info.txt`` (covered by the tag manifests): an edited or removed line
changes the file's digest and, if the editor also recomputed every manifest, still disagrees
with the digest and count recorded there. (Someone who rewrites ``bag-info.txt`` and the tag
manifests too can only be caught against something kept outside the bag: the hash chain of
issue 19, not built yet.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import Problem
from duban.ledger.schema import EventRow

FILE = "events.jsonl"
COUNT, LAST_ID, DIGEST = "Duban-Event-Count", "Duban-Event-Last-Id", "Duban-Event-Log-SHA256"


@dataclass(frozen=True)
class EventLog:
    count: int
    last_id: int
    sha256: str

    def bag_info(self) -> dict[str, str]:
        return {COUNT: str(self.count), LAST_ID: str(self.last_id), DIGEST: self.sha256}


def export_events(session: Session, campaign_id: str, path: Path) -> EventLog:
    """Write the campaign's events to ``path``, streaming from the ledger."""
    query = select(EventRow).where(EventRow.campaign_id == campaign_id).order_by(EventRow.id)
    hasher, count, last = hashlib.sha256(), 0, 0
    with path.open("xb") as handle:
        for row in session.scalars(query.execution_options(yield_per=1000)):
            line = (
                json.dumps(_event(row), ensure_ascii=False, sort_keys=True, default=str) + "\n"
            ).encode("utf-8")
            handle.write(line)
            hasher.update(line)
            count, last = count + 1, row.id
    return EventLog(count, last, hasher.hexdigest())


def _event(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "campaign_id": row.campaign_id,
        "kind": row.kind,
        "subject": row.subject,
        "actor": row.actor,
        "payload": row.payload,
    }


def check_events(path: Path, info: dict[str, str], name: str) -> tuple[int, list[Problem]]:
    """The number of events read and what is wrong: a line that is not an event, ids not
    increasing, and a count, last id or digest that differs from ``bag-info.txt``'s."""
    if not path.is_file():
        return 0, []  # missing: the manifests' check names it
    problems: list[Problem] = []
    hasher, count, last = hashlib.sha256(), 0, 0
    for number, line in _lines(path):
        hasher.update(line)
        event_id = _event_id(line)
        if event_id is None:
            problems.append(
                _at(
                    name,
                    number,
                    "not an event (JSON with an integer id)",
                    "不是一条事件（含整数 id 的 JSON）",
                )
            )
            continue
        if event_id <= last:
            problems.append(
                _at(
                    name,
                    number,
                    f"event id {event_id} after {last}: ids must increase",
                    f"事件编号 {event_id} 排在 {last} 之后：编号应递增",
                )
            )
        count, last = count + 1, max(last, event_id)
    problems += _against_info(
        name, info, {COUNT: str(count), LAST_ID: str(last), DIGEST: hasher.hexdigest()}
    )
    return count, problems


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


def _event_id(line: bytes) -> int | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _against_info(name: str, info: dict[str, str], found: dict[str, str]) -> list[Problem]:
    problems = []
    for key, value in found.items():
        recorded = info.get(key)
        if recorded != value:
            problems.append(
                Problem(
                    name,
                    f"{key} is {value}, bag-info.txt records {recorded or 'nothing'}",
                    f"{key} 为 {value}，而 bag-info.txt 记载为 {recorded or '（无）'}",
                )
            )
    return problems


def _at(name: str, number: int, message: str, zh: str) -> Problem:
    return Problem(f"{name} line {number}", message, zh, f"{name} 第 {number} 行")
