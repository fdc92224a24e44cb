"""What a received message holds, as the intake's parts share it (what a source yields,
``RawItem``, is defined with the sources: ``duban.adapters.sources.model``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
    """``X-Duban-Key`` as sent: set on every message duban itself sends (and copyable by
    anyone, so it proves nothing alone: see ``receiving``)."""
    authentication_results: tuple[str, ...] = ()
    """Every ``Authentication-Results`` header as sent, topmost (the last server's) first."""


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
