"""The usual shape of a message split at its boundaries by string search, not line by line.

``email``'s feed parser reads a message a line at a time and checks every line of every part
against each enclosing boundary's pattern, which it compiles afresh for each message's
boundary. A reply carrying a 13 KB workbook is about 300 lines; finding its files took
1.16 ms on a quiet machine (2.5 ms on a busy one), the largest single piece of ``duban
collect``'s own work at 10,000 replies (bench/round, issue 20); split, 0.59 ms, most of it
now the walk over the parts and their headers. The lines that matter are the boundary
lines, and ``str.find`` locates those in microseconds.

``split`` builds exactly the tree the parser builds (the same classes, headers, payloads,
preambles, epilogues and defects) for the shape nearly every mail client sends, and returns
None for anything else, which the parser then reads as before: a lone CR line end; a
``message/*`` part or a ``multipart/digest``; a multipart without a boundary, with a transfer
encoding other than 7bit, 8bit or binary, without an opening or a closing boundary, or with
two boundary lines in a row; a header block the parser finds a defect in, or that does not end
in an empty line; nesting deeper than ``MAX_NESTING``. Each part's header block is read by the
parser itself, so what a header means is the parser's by construction; what this module
decides is only where each part begins and ends, by the parser's own rules (below).
tests/test_intake_mimesplit.py holds it to the parser's tree on every message the intake tests
use and on thousands of generated ones.

The parser's rules this follows: a boundary line is ``--`` and the boundary at the start of a
line, then optionally ``--`` (the closing one), then spaces or tabs only; the line end before a
boundary line belongs to the boundary (stripped from the part, preamble or nested epilogue
before it); a part ends at any boundary line of any enclosing multipart; after the closing
boundary, the rest is the epilogue.
"""

from __future__ import annotations

import itertools
import re
from email.message import Message
from email.parser import Parser
from email.policy import Policy

MAX_NESTING = 4
"""Multiparts nested deeper than this are left to the parser (and to intake's own limits)."""

_REST = re.compile(r"(--)?[ \t]*")
"""What may follow ``--boundary`` on a boundary line, before its line end."""
_PLAIN_ENCODINGS = ("7bit", "8bit", "binary")


class _UnusualError(Exception):
    """This message is not of the usual shape: the parser reads it."""


def split(data: bytes, policy: Policy) -> Message | None:
    """The tree ``BytesParser(policy=policy).parsebytes(data)`` returns, or None when
    ``data`` is not of the usual shape (see the module's docstring)."""
    if data.count(b"\r") != data.count(b"\r\n"):  # a lone CR ends a line for the parser
        return None
    text = data.decode("ascii", "surrogateescape")  # what BytesParser does
    try:
        return _part(text, Parser(policy=policy), 0)
    except _UnusualError:
        return None


def _part(text: str, parser: Parser, nesting: int) -> Message:
    """One part (or the whole message) from its text: headers, then its body."""
    head_end = _head_end(text)
    message = parser.parsestr(text[:head_end], headersonly=True)
    if message.defects:
        raise _UnusualError
    body = text[head_end:]
    maintype = message.get_content_maintype()
    if maintype == "message":
        raise _UnusualError
    if maintype == "multipart":
        _multipart(message, body, parser, nesting)
    else:
        message.set_payload(body)
    return message


def _head_end(text: str) -> int:
    """Where the body starts: just after the first empty line (the header block's end)."""
    if text.startswith("\n"):
        return 1
    if text.startswith("\r\n"):
        return 2
    ends = [at for at in (text.find("\n\n"), text.find("\n\r\n")) if at >= 0]
    if not ends:
        raise _UnusualError
    at = min(ends)
    return at + (2 if text.startswith("\n\n", at) else 3)


def _multipart(message: Message, body: str, parser: Parser, nesting: int) -> None:
    """A multipart's preamble, parts and epilogue, split at its boundary lines."""
    boundary = message.get_boundary()
    encoding = str(message.get("content-transfer-encoding", "8bit")).lower()
    if (
        not boundary
        or encoding not in _PLAIN_ENCODINGS
        or message.get_content_type() == "multipart/digest"  # its parts' default type differs
        or nesting >= MAX_NESTING
    ):
        raise _UnusualError
    lines = _boundary_lines(body, f"--{boundary}")
    if not lines or lines[0][2]:  # no opening boundary, or a closing one first
        raise _UnusualError
    if lines[0][0]:
        message.preamble = _strip_line_end(body[: lines[0][0]])
    parts: list[Message | str] = []
    for (_, end, closing), (start, _, _) in itertools.pairwise(lines):
        if closing:
            break
        parts.append(_child(body[end:start], parser, nesting))
    closes = [end for _, end, closing in lines if closing]
    if not closes:
        raise _UnusualError
    message.set_payload(parts)
    message.epilogue = body[closes[0] :]


def _child(text: str, parser: Parser, nesting: int) -> Message:
    """A part between two boundary lines, less the line end that belongs to the boundary (two
    boundary lines in a row leave an empty text, with no header block: unusual)."""
    child = _part(text, parser, nesting + 1)
    if child.get_content_maintype() == "multipart":
        child.epilogue = None if child.epilogue == "" else _strip_line_end(child.epilogue or "")
    else:  # the text as parsed: get_payload() would decode 8-bit bytes by the charset
        payload = vars(child)["_payload"]  # the attribute the parser sets and strips
        child.set_payload(_strip_line_end(payload))
    return child


def _boundary_lines(body: str, separator: str) -> list[tuple[int, int, bool]]:
    """Every boundary line of ``body``, in order: (start, end after its line end, closing)."""
    found: list[tuple[int, int, bool]] = []
    at = body.find(separator)
    while at >= 0:
        if at == 0 or body[at - 1] == "\n":
            newline = body.find("\n", at)
            end = len(body) if newline < 0 else newline + 1
            rest = body[at + len(separator) : end].rstrip("\r\n")
            match = _REST.fullmatch(rest)
            if match is not None:
                found.append((at, end, match.group(1) is not None))
        at = body.find(separator, at + 1)
    return found


def _strip_line_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text
