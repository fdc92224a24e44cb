"""The campaign's event log as JSON lines, and the check of an archived one.

One event a line, in id order: ``{"id", "at", "campaign_id", "kind", "subject", "actor",
"payload", "link"}`` with sorted keys; ``link`` is the event's link in the campaign's hash chain
(``duban.ledger.chain``: ``seq``, ``prev_sha256``, ``sha256``). The writer returns the count,
the last id, the chain's head and the SHA-256 of the file, which go into ``bag-info.txt``
(covered by the tag manifests).

What the check catches: an edited line (its link's hash no longer follows, and the file's digest
differs), a removed or inserted one (the next link's previous hash differs, and the count), ids
out of order. Someone who rewrites the lines, recomputes the whole chain from the edit on and
rewrites ``bag-info.txt`` and every manifest is caught only against a head kept elsewhere: the
live ledger's chain, or the head ``duban archive write`` printed and the office noted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import Problem
from duban.ledger.chain import GENESIS, Break, canonical_event, check_links
from duban.ledger.schema import EventLinkRow, EventRow

FILE = "events.jsonl"
COUNT, LAST_ID, DIGEST = "Duban-Event-Count", "Duban-Event-Last-Id", "Duban-Event-Log-SHA256"
HEAD = "Duban-Event-Chain-Head"


@dataclass(frozen=True)
class EventLog:
    count: int
    last_id: int
    sha256: str
    head: str

    def bag_info(self) -> dict[str, str]:
        return {COUNT: str(self.count), LAST_ID: str(self.last_id), DIGEST: self.sha256,
                HEAD: self.head}  # fmt: skip


def export_events(session: Session, campaign_id: str, path: Path) -> EventLog:
    """Write the campaign's events with their links to ``path``, streaming from the ledger."""
    query = (
        select(EventRow, EventLinkRow)
        .outerjoin(EventLinkRow, EventLinkRow.event_id == EventRow.id)
        .where(EventRow.campaign_id == campaign_id)
        .order_by(EventRow.id)
    )
    hasher, count, last, head = hashlib.sha256(), 0, 0, GENESIS
    with path.open("xb") as handle:
        for row, link in session.execute(query.execution_options(yield_per=1000)):
            line = (json.dumps(_event(row, link), ensure_ascii=False, sort_keys=True,
                               default=str) + "\n").encode("utf-8")  # fmt: skip
            handle.write(line)
            hasher.update(line)
            count, last = count + 1, row.id
            head = head if link is None else link.sha256
    return EventLog(count, last, hasher.hexdigest(), head)


def _event(row: EventRow, link: EventLinkRow | None) -> dict[str, Any]:
    linked = None if link is None else {"seq": link.seq, "prev_sha256": link.prev_sha256,
                                        "sha256": link.sha256}  # fmt: skip
    return {"id": row.id, "at": row.at.isoformat(), "campaign_id": row.campaign_id,
            "kind": row.kind, "subject": row.subject, "actor": row.actor,
            "payload": row.payload, "link": linked}  # fmt: skip


@dataclass
class EventsRead:
    """What reading an archived event log found, before comparing with ``bag-info.txt``."""

    present: bool = True
    count: int = 0
    last_id: int = 0
    head: str = GENESIS
    sha256: str = ""
    lines: list[Problem] = field(default_factory=list)  # a line not an event, ids not increasing
    chain: list[Problem] = field(default_factory=list)  # links that do not follow

    def found(self) -> dict[str, str]:
        return {COUNT: str(self.count), LAST_ID: str(self.last_id), HEAD: self.head,
                DIGEST: self.sha256}  # fmt: skip


def read_events(path: Path, name: str) -> EventsRead:
    """Read the log once, in a stream, walking the hash chain."""
    if not path.is_file():
        return EventsRead(present=False)  # the manifests' check names it
    read, hasher = EventsRead(), hashlib.sha256()
    links: list[tuple[int, str, str, bytes | None]] = []
    lines: dict[int, int] = {}  # event id → line number
    for number, line in _lines(path):
        hasher.update(line)
        event = _parsed(line)
        if event is None:
            read.lines.append(_at(name, number, "not an event (JSON with an integer id)",
                                  "不是一条事件（含整数 id 的 JSON）"))  # fmt: skip
            continue
        event_id = event["id"]
        if event_id <= read.last_id:
            message = f"event id {event_id} after {read.last_id}: ids must increase"
            zh = f"事件编号 {event_id} 排在 {read.last_id} 之后：编号应递增"
            read.lines.append(_at(name, number, message, zh))
        read.count, read.last_id = read.count + 1, max(read.last_id, event_id)
        lines[event_id] = number
        links.append(_link(event))
    read.chain = [_broken(name, lines, b) for b in check_links(links)]
    read.head = links[-1][2] if links else GENESIS
    read.sha256 = hasher.hexdigest()
    return read


def _link(event: dict[str, Any]) -> tuple[int, str, str, bytes | None]:
    link = event.get("link") or {}
    try:
        data = canonical_event(event["id"], datetime.fromisoformat(event["at"]),
                               event.get("campaign_id"), event["kind"], event.get("subject"),
                               event["actor"], event.get("payload"))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        data = b""
    return event["id"], str(link.get("prev_sha256", "")), str(link.get("sha256", "")), data


def _broken(name: str, lines: dict[int, int], found: Break) -> Problem:
    event_id = int(found.where.split()[-1])
    return _at(name, lines[event_id], f"{found.where}: {found.message}",
               f"事件 {event_id}：{found.zh}")  # fmt: skip


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


def _parsed(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    ok = isinstance(found, int) and not isinstance(found, bool)
    return value if ok else None


def against_info(name: str, info: dict[str, str], found: dict[str, str]) -> list[Problem]:
    problems = []
    for key, value in found.items():
        recorded = info.get(key)
        if recorded != value:
            problems.append(Problem(
                name, f"{key} is {value}, bag-info.txt records {recorded or 'nothing'}",
                f"{key} 为 {value}，而 bag-info.txt 记载为 {recorded or '（无）'}",
            ))  # fmt: skip
    return problems


def _at(name: str, number: int, message: str, zh: str) -> Problem:
    return Problem(f"{name} line {number}", message, zh, f"{name} 第 {number} 行")
