"""What of the raw store belongs in a campaign's archive, found in the ledger.

Received: the raw bytes of every message the campaign's intake recorded and every file found in
them. Sent: the exact bytes of every message duban sent, kept since issue 19 (older messages,
and bot posts, have none: listed so the archive says what it lacks). Public-evaluation ballots
never go in the clear: the files whose hash a ballot records, and the messages that carried
them, since the raw ballot names its evaluator beside the marks; they stay out, or go in
encrypted to the office's key (module ``archive.ballots``, by the campaign's setting
``archive: ballots:``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import BallotRow, EventRow, IntakeFileRow, IntakeRow, MessageRow

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")

BALLOT, CARRIER = "ballot", "message carrying a ballot"
"""Why a raw object the ledger names stays out of the bag (``data/left-out.csv``)."""
SEALED = "ballots/ballots.tar.gpg"
"""The encrypted ballots, under ``data/``, with ``archive.ballots: encrypt`` (``ballots``)."""
_INSIDE = f"inside {SEALED}, encrypted to the office's key"
ENCRYPTED_BALLOT, ENCRYPTED_CARRIER = f"{BALLOT}, {_INSIDE}", f"{CARRIER}, {_INSIDE}"
"""Why ``left-out.csv`` lists an encrypted ballot or message: not in the bag in the clear."""
SENT = ("sent", "partial", "refused")
"""A message that went to the server (refused by it for some or all recipients included)."""


@dataclass
class RawRefs:
    """The hashes to file, by folder; and what cannot be filed."""

    messages: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # hash → a file name it came under
    sent: list[str] = field(default_factory=list)
    posts: set[str] = field(default_factory=set)  # those of ``sent`` that are bot posts (JSON)
    unkept_sent: list[tuple[int, str, str]] = field(default_factory=list)  # id, kind, subject
    others: list[str] = field(default_factory=list)
    ballots_left_out: int = 0
    left_out: dict[str, str] = field(default_factory=dict)  # hash → why (ballots, carriers)
    ballot_files: dict[str, str] = field(default_factory=dict)  # hash → a name it came under

    def carriers(self) -> list[str]:
        """The messages that carried a ballot (left out with it, or encrypted with it)."""
        return sorted(sha for sha, why in self.left_out.items() if why == CARRIER)


def safe_suffix(name: str) -> str:
    """A file name's suffix to keep on a file named by its hash (``.xlsx``), or none."""
    suffix = PurePosixPath(name).suffix
    return suffix if _SUFFIX.fullmatch(suffix) else ""


def raw_refs(session: Session, campaign_id: str, stored: Callable[[str], bool]) -> RawRefs:
    """The campaign's raw objects; ``stored`` tells whether the raw store has a hash (the
    hashes events name, under a ``sha256`` key, are filed only when it has)."""
    refs = RawRefs()
    ballots = set(session.scalars(select(BallotRow.sha256).where(
        BallotRow.campaign_id == campaign_id)))  # fmt: skip
    files = (
        select(IntakeFileRow.intake_id, IntakeFileRow.sha256, IntakeFileRow.filename)
        .join(IntakeRow, IntakeRow.id == IntakeFileRow.intake_id)
        .where(IntakeRow.campaign_id == campaign_id)
        .order_by(IntakeFileRow.id)
    )
    carrying: set[int] = set()
    for intake_id, sha, name in session.execute(files):
        if sha in ballots:
            carrying.add(intake_id)
            refs.ballot_files.setdefault(sha, name or "")
        else:
            refs.files.setdefault(sha, name or "")
    records = select(IntakeRow.id, IntakeRow.raw_sha256).where(IntakeRow.campaign_id == campaign_id)
    messages: dict[str, None] = {}
    for intake_id, sha in session.execute(records.order_by(IntakeRow.id)):
        if intake_id not in carrying and sha not in ballots:
            messages.setdefault(sha)
        elif sha not in ballots:
            refs.left_out.setdefault(sha, CARRIER)
    refs.left_out.update(dict.fromkeys(ballots, BALLOT))
    refs.ballot_files.update({sha: "" for sha in ballots if sha not in refs.ballot_files})
    refs.messages = list(messages)
    refs.ballots_left_out = len(ballots)
    _sent(session, campaign_id, refs)
    filed = {*refs.messages, *refs.files, *refs.sent, *ballots}
    named = dict.fromkeys(_event_hashes(session, campaign_id))
    refs.others = [sha for sha in named if sha not in filed and stored(sha)]
    return refs


def _event_hashes(session: Session, campaign_id: str) -> Iterator[str]:
    """Every ``sha256`` an event of the campaign names: an imported sheet kept in the raw
    store (rectification, adjustments) is known to the ledger only that way."""
    query = select(EventRow.payload).where(EventRow.campaign_id == campaign_id)
    for payload in session.scalars(query.order_by(EventRow.id).execution_options(yield_per=1000)):
        yield from _hashes(payload)


def _hashes(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "sha256" and isinstance(item, str) and _SHA256.fullmatch(item):
                yield item
            else:
                yield from _hashes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hashes(item)


def _sent(session: Session, campaign_id: str, refs: RawRefs) -> None:
    query = (
        select(MessageRow.id, MessageRow.kind, MessageRow.subject, MessageRow.raw_sha256)
        .where(MessageRow.campaign_id == campaign_id, MessageRow.status.in_(SENT))
        .order_by(MessageRow.id)
    )
    kept: dict[str, None] = {}
    for message_id, kind, subject, sha in session.execute(query):
        if sha is None:
            refs.unkept_sent.append((message_id, kind, subject))
        else:
            kept.setdefault(sha)
            if kind == "bot":
                refs.posts.add(sha)
    refs.sent = list(kept)
