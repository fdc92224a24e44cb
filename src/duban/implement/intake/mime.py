"""Read one received message: who sent it, about what, and every file it carries.

``read_message`` never raises: a message from the outside world may be malformed in any way,
and intake must still record it. What could not be read is listed in ``problems`` (plain
sentences for a coordinator), and whatever could be read is returned.

Decisions, and why:

* **Sender** is the From address. Reply-To is not trusted: anyone may set it, and the sender
  decides which unit a reply counts for.
* **Header text** is decoded by ``mimetext`` from the raw bytes, not by Python's
  header parser, which garbles raw GBK bytes and GB2312-labelled names holding characters
  outside GB2312 (NOTES.md, "Mail"). So the message is split with the ``compat32`` policy,
  which keeps every header as the raw text it was sent as and builds no header objects (those
  of ``policy.default`` cost more than the rest of reading a message together).
* **Files** are every attachment, every inline part with a file name, and every
  ``application/octet-stream`` part even without one (some clients send workbooks that way).
  Text and HTML bodies without a name are not files.
* **Forwarded messages** (``message/rfc822``, also when wrongly sent in base64) are read
  recursively; their files get ``("forwarded message",)`` in their path.
* **winmail.dat** (``application/ms-tnef``) is unpacked by ``tnef``; its files get
  ``("winmail.dat",)``. If it cannot be read, the winmail.dat itself is returned as a file so
  nothing is lost.
* **Limits**: at most ``MAX_PARTS`` MIME parts are looked at and forwarded or nested parts are
  followed ``MAX_DEPTH`` levels deep, so a hostile message cannot make intake walk forever.
  A walk cut short says so (``cut``: ``too-many-parts`` or ``too-deep``), so that the sender
  is told to send the workbook alone rather than that none was attached.
* Zip archives are returned as they are; unpacking them is another module's job.
"""

from __future__ import annotations

import base64
import binascii
import functools
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from duban.implement.intake.mimesplit import split
from duban.implement.intake.mimetext import (
    clean_filename,
    decode_words,
    header_text,
    parameter,
    split_header,
)
from duban.implement.intake.model import Envelope, FoundFile
from duban.implement.intake.tnef import unpack_tnef

MAX_PARTS = 200
MAX_DEPTH = 10
FORWARDED = "forwarded message"
WINMAIL = "winmail.dat"
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_MESSAGE_TYPES = ("message/rfc822", "message/global")


TOO_MANY_PARTS = "too-many-parts"
TOO_DEEP = "too-deep"


@dataclass(frozen=True)
class ParsedMessage:
    envelope: Envelope
    files: list[FoundFile]
    problems: list[str]
    cut: str | None = None
    """``too-many-parts`` or ``too-deep`` when a limit stopped the walk: more may be inside."""


@dataclass(frozen=True)
class FilesFound:
    """The files of a message, and whether a limit stopped the walk (``cut``) before its end."""

    files: list[FoundFile]
    cut: str | None = None


@dataclass
class _Walk:
    """The state of one walk over a message tree: what was found and how much was looked at."""

    max_parts: int
    max_depth: int
    files: list[FoundFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    parts: int = 0
    stopped: bool = False
    cut: str | None = None

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def too_many(self) -> None:
        """One part more than ``max_parts``: the walk stops here."""
        self.stopped = True
        self.cut = self.cut or TOO_MANY_PARTS
        self.problem(f"more than {self.max_parts} parts: the rest of the message was not read")

    def too_deep(self) -> None:
        self.cut = self.cut or TOO_DEEP
        self.problem(f"parts nested deeper than {self.max_depth} levels were not read")


def read_message(
    data: bytes, *, max_parts: int = MAX_PARTS, max_depth: int = MAX_DEPTH
) -> ParsedMessage:
    """The envelope, files and problems of one raw message; never raises."""
    walk = _Walk(max_parts=max_parts, max_depth=max_depth)
    try:
        message = _parse(data)
    except Exception as exc:  # the parser can exhaust the stack on absurd nesting
        if isinstance(exc, RecursionError):
            walk.too_deep()
        walk.problem(f"the message's body could not be parsed ({type(exc).__name__})")
        return ParsedMessage(_headers_only(data, walk), [], walk.problems, walk.cut)
    try:
        envelope = _envelope(message, walk)
    except Exception as exc:  # a defensive net: header decoding is written not to raise
        walk.problem(f"the message's headers could not be read ({type(exc).__name__})")
        envelope = Envelope(None, None, None, None, None)
    try:
        _visit(message, (), 0, walk)
    except RecursionError:
        walk.too_deep()
        walk.problem("the message is nested too deeply to read")
    except Exception as exc:  # the same net for the walk: keep what was found so far
        walk.problem(f"part of the message could not be read ({type(exc).__name__})")
    return ParsedMessage(envelope, walk.files, walk.problems, walk.cut)


def read_files(
    data: bytes, *, max_parts: int = MAX_PARTS, max_depth: int = MAX_DEPTH
) -> FilesFound:
    """The files of one raw message, as ``read_message`` finds them, and whether a limit cut
    the walk short, without reading its envelope again (intake has it from
    ``read_envelope``); never raises."""
    walk = _Walk(max_parts=max_parts, max_depth=max_depth)
    try:
        _visit(_parse(data), (), 0, walk)
    except RecursionError:  # the parser's or the walk's stack: nested too deeply
        walk.too_deep()
    except Exception:  # read_message's net: keep what was found so far
        pass
    return FilesFound(walk.files, walk.cut)


class _Part(Message):
    """A part as ``compat32`` parses it, except that the two questions the parser asks about
    Content-Type (which type, which boundary) are answered exactly as ``policy.default``
    answers them, so a message splits into the same parts as it always did. A plain header,
    what every client sends, is read the cheap ``compat32`` way, which gives the same answer;
    anything else (8-bit bytes, encoded words, comments, escapes, a repeated boundary) goes
    through ``policy.default``'s header parser."""

    def get_content_type(self) -> str:
        probe = self._strict()
        return super().get_content_type() if probe is None else probe.get_content_type()

    def get_boundary(self, failobj: Any = None) -> Any:
        probe = self._strict()
        return super().get_boundary(failobj) if probe is None else probe.get_boundary(failobj)

    def _strict(self) -> Message | None:
        """None for a plain Content-Type; else its headers in a ``policy.default`` message."""
        first = self.get("content-type")  # the raw text, or a Header object for 8-bit bytes
        if first is None or (isinstance(first, str) and _plain_content_type(first)):
            return None
        probe = Message(policy.default)
        for key, value in self.raw_items():
            if key.lower() == "content-type":
                probe.set_raw("Content-Type", value)
        return probe


_TOKEN = r"[!#$%&+.^_`|~0-9A-Za-z-]+"
"""RFC 2045 token characters, less ``'`` and ``*`` (RFC 2231 syntax: left to the strict way)."""
_PLAIN_CONTENT_TYPE = re.compile(
    rf"[ \t\r\n]*{_TOKEN}/{_TOKEN}[ \t\r\n]*"
    rf'(?:;[ \t\r\n]*{_TOKEN}[ \t\r\n]*=[ \t\r\n]*(?:{_TOKEN}|"[ !#-\[\]-~]*")[ \t\r\n]*)*'
    r";?[ \t\r\n]*"
)
"""A type and parameters of RFC 2045 tokens or quoted printable ASCII without escapes."""


@functools.lru_cache(maxsize=256)  # the parser asks about the same part a dozen times
def _plain_content_type(value: str) -> bool:
    return (
        "=?" not in value
        and _PLAIN_CONTENT_TYPE.fullmatch(value) is not None
        and value.lower().count("boundary") <= 1
    )


_POLICY = compat32.clone(message_factory=_Part)


def _parse(data: bytes) -> Message:
    """The message's tree: split at its boundaries when it has the usual shape, else read a
    line at a time by the parser (``mimesplit``: the same tree; reading a reply's files took
    1.16 ms, 0.59 ms split, quiet, with the walk)."""
    usual = split(data, _POLICY)
    return BytesParser(policy=_POLICY).parsebytes(data) if usual is None else usual


def read_envelope(data: bytes) -> Envelope:
    """The envelope of one raw message, from its headers alone (what ``read_message`` gives
    as ``envelope``, for much less work); never raises."""
    try:
        return _envelope(_parse_headers(data), _Walk(max_parts=0, max_depth=0))
    except Exception:  # the same net as read_message's
        return Envelope(None, None, None, None, None)


_BLANK_LINE = re.compile(rb"\n[\r\n]|\r\r")
"""Where the first empty line can start: the parser splits lines at CRLF, CR or LF, so two
line ends in a row (other than the CR and LF of one CRLF) always make one."""


def _parse_headers(data: bytes) -> Message:
    """The header block parsed as ``BytesParser(headersonly=True)`` parses the whole message
    (which still splits every line of the body): the parser's headers end at the first empty
    line at the latest, and what follows it is no header."""
    blank = _BLANK_LINE.search(data)
    head = data if blank is None else data[: blank.start() + 1]
    return BytesParser(policy=_POLICY).parsebytes(head, headersonly=True)


def _headers_only(data: bytes, walk: _Walk) -> Envelope:
    """The envelope of a message whose body defeated the parser: its headers may be fine."""
    try:
        return _envelope(_parse_headers(data), walk)
    except Exception:
        return Envelope(None, None, None, None, None)


class _Headers:
    """A part's headers as sent: the first raw value of each name, read once per part."""

    __slots__ = ("_raw",)

    def __init__(self, part: Message) -> None:
        raw: dict[str, str] = {}
        for key, value in part.raw_items():
            if isinstance(value, str):
                raw.setdefault(key.lower(), value)
        self._raw = raw

    def text(self, name: str) -> str | None:
        """The first raw value of a header, as text (see ``header_text``)."""
        value = self._raw.get(name)
        return None if value is None else header_text(value)

    def raw(self, name: str) -> str | None:
        """The first value of a header exactly as the parser kept it."""
        return self._raw.get(name)


def _envelope(message: Message, walk: _Walk) -> Envelope:
    headers = _Headers(message)
    sender, sender_name = _sender(headers, walk)
    subject = headers.text("subject")
    return Envelope(
        sender=sender,
        sender_name=sender_name,
        subject=None if subject is None else decode_words(subject).strip(),
        message_id=_message_id(headers.text("message-id")),
        date=_date(headers.text("date"), walk),
        in_reply_to=_message_id(headers.text("in-reply-to")),
        auto_submitted=headers.raw("auto-submitted"),
        duban_key=headers.raw("x-duban-key"),
        authentication_results=_all_raw(message, "authentication-results"),
    )


def _all_raw(message: Message, name: str) -> tuple[str, ...]:
    """Every value of a header, top first, as sent (one that is not ASCII text is left out:
    the receiving server writes its verdict in ASCII)."""
    return tuple(
        value
        for key, value in message.raw_items()
        if key.lower() == name and isinstance(value, str)
    )


def _sender(headers: _Headers, walk: _Walk) -> tuple[str | None, str | None]:
    raw = headers.text("from")
    if raw is None:
        walk.problem("the message has no From header")
        return None, None
    try:
        pairs = [(name, address) for name, address in getaddresses([raw]) if name or address]
    except Exception:  # getaddresses has raised on hostile input in some Python versions
        pairs = []
    usable = [(n, a.strip()) for n, a in pairs if a.count("@") == 1 and " " not in a.strip()]
    if not usable:
        walk.problem("the From header holds no usable address")
        name = decode_words(pairs[0][0]).strip() if pairs else ""
        return None, name or None
    if len(usable) > 1:
        walk.problem(f"the From header holds {len(usable)} addresses; the first is used")
    name, address = usable[0]
    return address, (decode_words(name).strip() or None)


def _message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    start = text.find("<")
    end = text.find(">", start + 1)
    if start >= 0 and end > start:
        return text[start : end + 1]
    return text.split()[0] if text else None


def _date(raw: str | None, walk: _Walk) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        walk.problem("the Date header could not be read")
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _visit(part: Message, path: tuple[str, ...], depth: int, walk: _Walk) -> None:
    """Walk one part and everything below it, depth first, within the limits."""
    if walk.stopped:
        return
    walk.parts += 1
    if walk.parts > walk.max_parts:
        walk.too_many()
        return
    if depth > walk.max_depth:
        walk.too_deep()
        return
    headers = _Headers(part)
    content_type = _content_type(part, headers)
    payload = part.get_payload()
    if content_type in _MESSAGE_TYPES:
        _forwarded(part, headers, payload, path, depth, walk)
    elif part.is_multipart() and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                _visit(child, path, depth + 1, walk)
    elif content_type.startswith("multipart/"):
        walk.problem(f"a {content_type} part has no usable boundary; its parts were not read")
        _leaf(part, headers, content_type, path, walk)
    else:
        _leaf(part, headers, content_type, path, walk)


def _forwarded(
    part: Message,
    headers: _Headers,
    payload: object,
    path: tuple[str, ...],
    depth: int,
    walk: _Walk,
) -> None:
    """A forwarded message: parsed by the parser, or carried wrongly in base64 or QP."""
    inner: Message | None = None
    encoding = (headers.text("content-transfer-encoding") or "").strip().lower()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        if encoding in ("base64", "quoted-printable"):  # RFC 2046 forbids it; clients do it
            inner = _reparse(inner.as_bytes(), encoding, walk)
    else:
        data = _payload_bytes(part, walk, "a forwarded message")
        inner = None if data is None else _reparse(data, "", walk)
    if inner is not None:
        _visit(inner, (*path, FORWARDED), depth + 1, walk)


def _reparse(data: bytes, encoding: str, walk: _Walk) -> Message | None:
    try:
        if encoding == "base64":
            data = base64.b64decode(b"".join(data.split()), validate=False)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
        return _parse(data)
    except (binascii.Error, ValueError) as exc:
        walk.problem(f"a forwarded message could not be decoded ({exc})"[:300])
        return None


def _leaf(
    part: Message, headers: _Headers, content_type: str, path: tuple[str, ...], walk: _Walk
) -> None:
    filename = _filename(headers)
    disposition, _params = split_header(headers.text("content-disposition") or "")
    is_tnef = content_type in _TNEF_TYPES or (filename or "").lower() == WINMAIL
    wanted = (
        is_tnef
        or filename is not None
        or disposition.lower() == "attachment"
        or content_type == "application/octet-stream"
    )
    if not wanted:
        return
    data = _payload_bytes(part, walk, filename or content_type)
    if data is None:
        return
    if is_tnef:
        _winmail(data, filename, content_type, path, walk)
        return
    walk.files.append(FoundFile(filename, content_type, data, path))


def _winmail(
    data: bytes, filename: str | None, content_type: str, path: tuple[str, ...], walk: _Walk
) -> None:
    result = unpack_tnef(data, filename or WINMAIL)
    for problem in result.problems:
        walk.problem(problem)
    if not result.complete:  # keep the stream itself too: nothing a unit sent is dropped
        walk.files.append(FoundFile(filename or WINMAIL, content_type, data, path))
    for found in result.files:
        walk.parts += 1
        if walk.parts > walk.max_parts:
            walk.too_many()
            return
        inner_path = (*path, WINMAIL, *found.path)
        walk.files.append(FoundFile(found.filename, found.content_type, found.data, inner_path))


def _content_type(part: Message, headers: _Headers) -> str:
    """The part's type, lower-case; the RFC 2045 default where it is missing or unreadable."""
    raw = headers.text("content-type")
    value = split_header(raw)[0].strip().lower() if raw else ""
    if "/" in value and " " not in value:
        return value
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _filename(headers: _Headers) -> str | None:
    """Content-Disposition ``filename`` first, then Content-Type ``name``, decoded and cleaned."""
    for header, key in (("content-disposition", "filename"), ("content-type", "name")):
        raw = headers.text(header)
        if raw is None:
            continue
        name = clean_filename(parameter(split_header(raw)[1], key))
        if name:
            return name
    return None


def _payload_bytes(part: Message, walk: _Walk, what: str) -> bytes | None:
    """The decoded body of a leaf part; damaged base64 is decoded as far as it goes."""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        walk.problem(f"{what}: its content could not be decoded ({type(exc).__name__})")
        return None
    damaged = [type(d).__name__ for d in part.defects if "Base64" in type(d).__name__]
    if damaged:
        walk.problem(f"{what}: its base64 content is damaged ({', '.join(sorted(damaged))})")
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return b""
