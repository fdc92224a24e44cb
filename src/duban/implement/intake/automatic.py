"""Is this message an automatic one? The whole rule, in one place.

Automatic messages are recorded and set aside (``ignored``), never processed or answered:

- duban's own messages (e.g. an escalation to the coordinator's mailbox): ``own-message``;
  ``own`` is known only from the ledger (``receiving``: the Message-ID and ``X-Duban-Key`` of
  a message duban recorded before sending it), never from the header alone, which anyone can
  write;
- auto-replies that say so (RFC 3834 ``Auto-Submitted`` other than ``no``): ``automatic-reply``;
- a message whose subject reads like an auto-reply (自动回复, auto-reply, automatic reply,
  out of office): ``automatic-reply``, but only when nothing in it was found to decide. A
  subject is weaker evidence than a header: a workbook sent under such a subject is a
  submission like any other.

The headers are known as a message is received, so it is set aside at once; whether anything
was found in it is known only once its files are decided.
"""

from __future__ import annotations

OWN_MESSAGE = "own-message"
AUTOMATIC_REPLY = "automatic-reply"
_SUBJECT_MARKS = ("自动回复", "auto-reply", "automatic reply", "out of office")


def automatic_reason(
    subject: str | None,
    auto_submitted: str | None = None,
    *,
    own: bool = False,
    found_nothing: bool = False,
) -> str | None:
    """Why the message is automatic (``own-message``, ``automatic-reply``), or None.

    ``subject`` counts only with ``found_nothing``: no file in the message decided anything."""
    if own:
        return OWN_MESSAGE
    submitted = "no" if auto_submitted is None else auto_submitted
    if submitted.strip().lower() != "no":
        return AUTOMATIC_REPLY
    if found_nothing and any(mark in (subject or "").lower() for mark in _SUBJECT_MARKS):
        return AUTOMATIC_REPLY
    return None
