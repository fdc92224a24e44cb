"""Build the MIME message of one notice: duban's own builder, not yagmail's.

What units' mail clients need, and what yagmail 0.16 got wrong (../shared/NOTES.md, "Mail"):

* a real text/plain alternative beside the HTML (yagmail's held the raw HTML);
* every header line at most 998 characters, folded (a 120-character Chinese file name made a
  1,179-character line in yagmail);
* one Message-ID per message, unique (yagmail's md5(from+to+subject) repeated for every
  reminder of the same subject, and a Message-ID given in ``headers=`` came out twice);
* Chinese subjects and display names in RFC 2047 encoded words, Chinese file names in RFC 2231
  (``filename*=utf-8''…``), plus the RFC 2047 ``name=`` that older Outlook and Foxmail read.

Every header value is checked for CR, LF, NUL and the other characters Python treats as line
breaks *before* anything is built: such a value would move headers into the body.

The policy is ``email.policy.SMTP`` (CRLF, 78-column folding, no raw UTF-8 in headers) with
two changes. ``refold_source="none"``, so the one header value duban folds itself (Content-Type
with an encoded ``name=``) is written as given: Python 3.11 refolding it turns the media type
itself into encoded words (``application/=?utf-8?q?vnd=2Eopenxml…``) and clients lose the type.
And a header registry that caches its classes and its headers, with a policy that folds each
header once: most header values repeat from message to message, and parsing and folding them
was most of the time building and serialising a notice took (issue 20). Lengths of
addresses, Message-IDs and MIME types are capped so folding always fits;
``mailer.wire_bytes`` still refuses any line over 998 characters before a message goes out.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import Any

from duban.adapters.mail.errors import HeaderInjectionError, InvalidAddressError
from duban.adapters.mail.html_text import html_to_text


class _CachingHeaderRegistry(HeaderRegistry):
    """The stock registry makes a new class on every header it touches (≈ 37 per notice), and
    parses every value anew although most repeat from message to message (the sender, the
    subject, the date, every part's Content-Type and Content-Transfer-Encoding).

    A header is a pure function of its name and value, and immutable once made (a str with a
    parse tree nothing writes to), so the same value gets the same object: the registry keeps
    up to ``_KEPT`` of them, and ``_CachingPolicy`` keeps each one's folded bytes. Values that
    are not text (addresses, a date) are keyed by exactly what their header is made from."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._headers: dict[tuple[object, ...], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(key)
        return found

    def __call__(self, name: str, value: Any) -> BaseHeader:
        key = _header_key(name, value)
        if key is None:
            return super().__call__(name, value)
        found = self._headers.get(key)
        if found is None:
            if len(self._headers) >= _KEPT:  # unique values (To, Message-ID) pile up
                self._headers.clear()  # one step, safe when threads build messages at once
            found = self._headers[key] = super().__call__(name, value)
        return found


_KEPT = 512


def _header_key(name: str, value: Any) -> tuple[object, ...] | None:
    """What a header made from ``value`` depends on, or None when it is not plainly known:
    text as it is; a date by its text and its zone (equal moments in other zones compare
    equal, and are written otherwise); addresses by name and address."""
    if type(value) is str:
        return (name, "str", value)
    if type(value) is datetime:
        return (name, "date", value.isoformat(), repr(value.tzinfo))
    if type(value) is tuple and all(type(v) is HeaderAddress for v in value):
        return (name, "addresses", *((a.display_name, a.username, a.domain) for a in value))
    if type(value) is HeaderAddress:
        return (name, "address", value.display_name, value.username, value.domain)
    return None


class _CachingPolicy(EmailPolicy):
    """``email.policy.SMTP`` that folds each header object once per line length, line end
    and charset (all that folding reads of a policy) and hands back the same bytes after."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if not hasattr(value, "name"):  # a raw value (set_raw): the stock way, unchanged
            return super().fold_binary(name, value)
        key = (self.max_line_length, self.linesep, self.utf8)
        memo: dict[tuple[object, ...], bytes] = value.__dict__.setdefault("_duban_folded", {})
        folded = memo.get(key)
        if folded is None:
            folded = memo[key] = super().fold_binary(name, value)
        return folded


POLICY = _CachingPolicy(
    linesep="\r\n", refold_source="none", header_factory=_CachingHeaderRegistry()
)
"""``policy.SMTP.clone(refold_source="none")`` with the caches above."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_KNOWN_TYPES = {".xlsx": XLSX, ".xls": "application/vnd.ms-excel", ".csv": "text/csv"}
# CR, LF and NUL, plus what str.splitlines() also breaks on: the email package splits on them.
_LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_MESSAGE_ID = re.compile(r"<[!-;=?A-~]+@[!-;=?A-~]+>")  # printable ASCII except < > @
_MIME_TYPE = re.compile(r"[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*", re.ASCII)
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_BUILT_HEADERS = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding", "content-disposition",
}  # fmt: skip
_WORD_BYTES = 45  # base64 of 45 bytes + "=?utf-8?b?" + "?=" = 72 ≤ 75 (RFC 2047)


@dataclass(frozen=True)
class Address:
    """A mailbox: display name (may be empty or Chinese) and an ASCII address."""

    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    """A file to attach; an empty ``mime_type`` is guessed from the file name."""

    filename: str
    content: bytes = field(repr=False)
    mime_type: str = ""

    @property
    def content_type(self) -> str:
        if self.mime_type:
            return self.mime_type
        suffix = "." + self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""
        guessed = _KNOWN_TYPES.get(suffix) or mimetypes.guess_type("x" + suffix)[0]
        return guessed or "application/octet-stream"


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """Everything one notice needs; ``date`` comes from duban's clock, never the wall clock.

    ``text`` may be left out when ``html`` is given: it is then derived from the HTML.
    ``headers`` are extra headers (In-Reply-To, References, X-Duban-Key, Auto-Submitted…).
    """

    sender: Address
    to: Sequence[Address]
    subject: str
    message_id: str
    date: datetime
    cc: Sequence[Address] = ()
    text: str | None = None
    html: str | None = None
    attachments: Sequence[Attachment] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


def make_message_id(domain: str) -> str:
    """A new ``<random@domain>`` for every call: reminders with one subject stay distinct."""
    _refuse_line_breaks("the Message-ID domain", domain)
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"{domain!r} is not an ASCII domain name")
    return f"<{uuid.uuid4().hex}@{domain}>"


def build(msg: OutgoingMessage) -> EmailMessage:
    """The message to send: text and HTML alternatives, then the attachments."""
    check(msg)
    message = EmailMessage(policy=POLICY)
    message["From"] = _header_address(msg.sender)
    message["To"] = tuple(_header_address(a) for a in msg.to)
    if msg.cc:
        message["Cc"] = tuple(_header_address(a) for a in msg.cc)
    message["Subject"] = msg.subject
    message["Date"] = msg.date
    message["Message-ID"] = msg.message_id
    for name, value in msg.headers.items():
        message[name] = value
    _set_body(message, msg)
    for attachment in msg.attachments:
        _attach(message, attachment)
    for number, part in enumerate(message.walk()):
        if part is not message:
            del part["MIME-Version"]  # Python repeats it in every part; only the top needs it
        if part.is_multipart():
            _set_boundary(part, _boundary(msg, number))
    return message


def _set_boundary(part: EmailMessage, boundary: str) -> None:
    """``Content-Type: multipart/…; boundary="…"`` as a raw value, folded: what
    ``set_boundary`` writes, without parsing and folding a header seen only once."""
    value = f'{part.get_content_type()};\r\n boundary="{boundary}"'
    # In its place: set_raw would move it to the end. (_headers is untyped in typeshed.)
    headers: list[tuple[str, Any]] = part._headers  # type: ignore[attr-defined]
    for index, (name, _) in enumerate(headers):
        if name.lower() == "content-type":
            headers[index] = ("Content-Type", value)


def _boundary(msg: OutgoingMessage, number: int) -> str:
    """The boundary of a multipart, named here so the generator need not pick one: picking
    one, it compiled a regular expression for every boundary it tried (about a millisecond a
    message, issue 20), to check that no line of the parts is that boundary.

    None can be: ``=_`` occurs in neither base64 nor quoted-printable, the encodings of every
    non-ASCII part; an ASCII text part would have to hold this message's boundary, which is
    drawn from its Message-ID, made at random after the text was. Drawn, not random, so a
    message built twice is the same bytes."""
    digest = hashlib.sha256(f"{msg.message_id}/{number}".encode()).hexdigest()[:32]
    return f"=_duban_{number}_{digest}"


def check(msg: OutgoingMessage) -> None:
    """Refuse what would make an unsafe or malformed message, before building anything."""
    for where, value in _header_values(msg):
        _refuse_line_breaks(where, value)
    for where, address in _addresses(msg):
        _check_address(where, address.email)
    if not msg.to and not msg.cc:
        raise InvalidAddressError("a message needs at least one recipient")
    if not _MESSAGE_ID.fullmatch(msg.message_id) or len(msg.message_id) > 250:
        raise ValueError(f"{msg.message_id!r} is not a Message-ID like <unique@domain>")
    if msg.date.tzinfo is None or msg.date.utcoffset() is None:
        raise ValueError("the Date of a message needs a time zone")
    if msg.text is None and msg.html is None:
        raise ValueError("a message needs text or HTML")
    for name in msg.headers:
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _BUILT_HEADERS:
            raise ValueError(f"{name!r} cannot be given as an extra header")
    for attachment in msg.attachments:
        if not _MIME_TYPE.fullmatch(attachment.content_type) or len(attachment.content_type) > 200:
            raise ValueError(f"{attachment.mime_type!r} is not a MIME type like type/subtype")


def _header_values(msg: OutgoingMessage) -> Iterator[tuple[str, str]]:
    yield "the subject", msg.subject
    yield "the Message-ID", msg.message_id
    for where, address in _addresses(msg):
        yield f"the name of {where}", address.name
        yield f"the address of {where}", address.email
    for name, value in msg.headers.items():
        yield "an extra header name", name
        yield f"the extra header {name}", value
    for attachment in msg.attachments:
        yield "an attachment's file name", attachment.filename
        yield f"the MIME type of {attachment.filename}", attachment.mime_type


def _addresses(msg: OutgoingMessage) -> Iterator[tuple[str, Address]]:
    yield "the sender", msg.sender
    for address in msg.to:
        yield "a To recipient", address
    for address in msg.cc:
        yield "a Cc recipient", address


def _refuse_line_breaks(where: str, value: str) -> None:
    found = _LINE_BREAKS.search(value)
    if found is not None:
        char = f"U+{ord(found.group()):04X}"
        raise HeaderInjectionError(
            f"{where} contains a line break or NUL ({char}): {value[:60]!r}",
            hint="remove line breaks from names, subjects and file names (check the roster)",
        )


def _check_address(where: str, email: str) -> None:
    if not _ADDR_SPEC.fullmatch(email) or ".." in email or len(email) > 254:
        raise InvalidAddressError(
            f"{where} has an address duban cannot use: {email[:80]!r}",
            hint="one ASCII address per field, like name@unit.example, no spaces or commas",
        )


def _header_address(address: Address) -> HeaderAddress:
    return HeaderAddress(display_name=address.name, addr_spec=address.email)


def _set_body(message: EmailMessage, msg: OutgoingMessage) -> None:
    text = msg.text if msg.text is not None else html_to_text(msg.html or "")
    message.set_content(text, subtype="plain", charset="utf-8", cte=_text_encoding(text))
    if msg.html is not None:
        message.add_alternative(
            msg.html, subtype="html", charset="utf-8", cte=_text_encoding(msg.html)
        )


def _text_encoding(text: str) -> str | None:
    """Base64 for non-ASCII text: no 8BITMIME needed, a third longer (quoted-printable: 3×)."""
    return None if text.isascii() else "base64"


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    maintype, subtype = attachment.content_type.split("/", 1)
    name = attachment.filename
    params = {"name": name} if name.isascii() else {}
    message.add_attachment(
        attachment.content, maintype=maintype, subtype=subtype, filename=name, params=params
    )
    if not name.isascii():
        part = list(message.iter_attachments())[-1]
        del part["Content-Type"]
        part.set_raw("Content-Type", _content_type_with_encoded_name(attachment.content_type, name))


def _content_type_with_encoded_name(content_type: str, name: str) -> str:
    """``type/subtype;`` then ``name="=?utf-8?b?…?="`` folded between encoded words."""
    words = [_encoded_word(chunk) for chunk in _utf8_chunks(name, _WORD_BYTES)]
    return f'{content_type};\r\n name="' + "\r\n ".join(words) + '"'


def _utf8_chunks(text: str, limit: int) -> Iterator[str]:
    chunk = ""
    for char in text:
        if len((chunk + char).encode()) > limit:
            yield chunk
            chunk = ""
        chunk += char
    if chunk:
        yield chunk


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode("ascii") + "?="
