"""The shapes shared by the intake's parts: what a source yields and what a message holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RawItem:
    """One item from a source, exactly as received.

    ``ref`` is stable for that item in that source (``UIDVALIDITY:UID`` for IMAP, the key of a
    Maildir message, the relative path of a dropped file), so a record can be found again
    after a crash. ``is_message`` is false for a bare file from a drop folder.
    """

    source: str
    ref: str
    data: bytes
    received_at: datetime | None
    is_message: bool = True


class Source(Protocol):
    """Where intake reads from. ``done`` and ``done_many`` are called only after the items'
    records are committed; ``done_many`` marks a batch at once (one flush of each folder, one
    IMAP command), which is what collect uses."""

    name: str

    def fetch(self, limit: int) -> Iterator[RawItem]: ...

    def done(self, ref: str) -> None: ...

    def done_many(self, refs: Sequence[str]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Envelope:
    """The header facts of a message that intake decides on."""

    sender: str | None
    sender_name: str | None
    subject: str | None
    message_id: str | None
    date: datetime | None
    in_reply_to: str | None = None
    auto_submitted: str | None = None
    """The RFC 3834 Auto-Submitted header as sent (``auto-replied`` for an out-of-office)."""
    duban_key: str | None = None
    """``X-Duban-Key`` as sent: set on every message duban itself sends."""


@dataclass(frozen=True)
class FoundFile:
    """A file found inside a message: its decoded name and where it was nested.

    ``path`` tells a coordinator where it came from, e.g. ``("forwarded message",
    "winmail.dat", "材料.zip")``.
    """

    filename: str | None
    content_type: str | None
    data: bytes
    path: tuple[str, ...] = ()
