"""What a mail source yields and what intake asks of a source."""

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
