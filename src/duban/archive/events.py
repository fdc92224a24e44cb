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


def check_events(path: Path, info: dict[str, str], name: str) -> tuple[int, list[Problem]]:
    """The number of events read and what is wrong: a line that is not an event, ids not
    increasing, a chain that does not hold, and a count, last id, head or digest that differs
    from ``bag-info.txt``'s."""
    if not path.is_file():
        return 0, []  # missing: the manifests' check names it
    problems: list[Problem] = []
    read = _Read()
    # checked as the lines are read: a break is named while ``read.line`` is still its line
    breaks = [_broken(name, read.line, b) for b in check_links(_links(path, name, read,
                                                                      problems))]  # fmt: skip
    problems += breaks
    found = {COUNT: str(read.count), LAST_ID: str(read.last), HEAD: read.head,
             DIGEST: read.hasher.hexdigest()}  # fmt: skip
    problems += _against_info(name, info, found)
    return read.count, problems


@dataclass
class _Read:
    """What reading the log found so far: the running digest, count, last id, head, and the
    number of the line last read."""

    hasher: Any = field(default_factory=hashlib.sha256)
    line: int = 0
    count: int = 0
    last: int = 0
    head: str = GENESIS


def _links(path: Path, name: str, read: _Read,
           problems: list[Problem]) -> Iterator[tuple[int, str, str, bytes | None]]:  # fmt: skip
    """Each event's link, one line at a time (never the whole log in memory), noting in
    ``read`` and ``problems`` what the lines themselves show."""
    for number, line in _lines(path):
        read.hasher.update(line)
        read.line = number
        event = _parsed(line)
        if event is None:
            problems.append(_at(name, number, "not an event (JSON with an integer id)",
                                "不是一条事件（含整数 id 的 JSON）"))  # fmt: skip
            continue
        event_id = event["id"]
        if event_id <= read.last:
            message = f"event id {event_id} after {read.last}: ids must increase"
            zh = f"事件编号 {event_id} 排在 {read.last} 之后：编号应递增"
            problems.append(_at(name, number, message, zh))
        read.count, read.last = read.count + 1, max(read.last, event_id)
        link = _link(event)
        read.head = link[2]
        yield link


def _link(event: dict[str, Any]) -> tuple[int, str, str, bytes | None]:
    link = event.get("link") or {}
    try:
        data = canonical_event(event["id"], datetime.fromisoformat(event["at"]),
                               event.get("campaign_id"), event["kind"], event.get("subject"),
                               event["actor"], event.get("payload"))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        data = b""
    return event["id"], str(link.get("prev_sha256", "")), str(link.get("sha256", "")), data


def _broken(name: str, line: int, found: Break) -> Problem:
    event_id = int(found.where.split()[-1])
    return _at(name, line, f"{found.where}: {found.message}",
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


def _against_info(name: str, info: dict[str, str], found: dict[str, str]) -> list[Problem]:
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
