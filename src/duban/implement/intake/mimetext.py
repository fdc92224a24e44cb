"""Decode the header text of mail from Chinese clients: names, subjects, file names.

Python's ``email`` package decodes standard headers well, but not what many Chinese clients
really send (NOTES.md, "Mail"):

* raw 8-bit GBK bytes in a header (older Foxmail, Outlook): Python assumes UTF-8 and produces
  replacement characters. Here raw bytes are read as UTF-8 when they are valid UTF-8, else as
  GB18030 (a superset of GBK and GB2312);
* a name labelled ``gb2312`` that holds characters outside GB2312 (a personal name's rare
  character, or ``·``): every GB label is decoded as GB18030, which accepts them all;
* RFC 2047 words inside a quoted parameter (``filename="=?GBK?B?...?="``), which RFC 2047
  forbids and every client produces;
* RFC 2231 continuations that split one multi-byte character across two sections: the bytes
  are joined before decoding.

Nothing here raises on bad input: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from urllib.parse import unquote_to_bytes

_GB_LABELS = {
    "gb2312", "gbk", "gb18030", "cp936", "ms936", "windows-936", "x-gbk", "gb_2312",
    "gb_2312-80", "csgb2312", "euc-cn", "x-euc-cn", "chinese", "iso-ir-58", "csiso58gb231280",
}  # fmt: skip
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
_PARAM_NAME = re.compile(r"(?P<name>[^*]+)(?:\*(?P<index>\d{1,3}))?(?P<extended>\*)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_SECTIONS = 100


def codec_for(label: str | None) -> str | None:
    """The Python codec for a MIME charset label; every GB label maps to GB18030."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    if name in _GB_LABELS:
        return "gb18030"
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
    return "gb18030" if found in ("gbk", "gb2312") else found


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from bytes: the declared charset if it fits, else UTF-8 if valid, else GB18030."""
    codec = codec_for(label)
    for candidate in (codec, "utf-8", "gb18030"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", "replace")


def header_text(raw: str) -> str:
    """A raw header value as the parser kept it, as text: 8-bit bytes decoded, lines unfolded.

    ``BytesParser`` keeps 8-bit header bytes as surrogate escapes; they are turned back into
    the bytes that were sent and decoded with ``decode_bytes``.
    """
    data = raw.encode("utf-8", "surrogateescape")
    text = data.decode("ascii") if data.isascii() else decode_bytes(data)
    return re.sub(r"\r?\n(?=[ \t])", "", text).replace("\r", "").replace("\n", "")


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words wherever they are, even inside quotes.

    Adjacent words in the same charset are joined as bytes first, because encoders split a
    GBK or UTF-8 character across two words; whitespace between two words is dropped.
    """
    pieces: list[tuple[str | None, bytes | str]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        follows_word = bool(pieces) and pieces[-1][0] is not None
        if between and not (follows_word and between.isspace()):
            pieces.append((None, between))
        charset = match.group(1).split("*", 1)[0].lower()
        data = _word_bytes(match.group(2), match.group(3))
        last = pieces[-1] if pieces else None
        if last is not None and last[0] == charset and isinstance(last[1], bytes):
            pieces[-1] = (charset, last[1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    if position == 0:
        return text
    pieces.append((None, text[position:]))
    return "".join(
        value if isinstance(value, str) else decode_bytes(value, charset)
        for charset, value in pieces
    )


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "Bb":
        padded = payload + "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(padded)
        except (binascii.Error, ValueError):
            return payload.encode("utf-8", "replace")
    data = payload.replace("_", " ").encode("utf-8", "replace")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def split_header(text: str) -> tuple[str, dict[str, str]]:
    """``type/sub; a=1; b="x; y"`` → (``type/sub``, {a: 1, b: x; y}), names lower-cased.

    Inside quotes only ``\\"`` and ``\\\\`` are escapes, so a Windows path keeps its
    backslashes; a quote that is never closed runs to the end of the header.
    """
    fields = _split_fields(text)
    params: dict[str, str] = {}
    for field in fields[1:]:
        name, equals, value = field.partition("=")
        name = name.strip().lower()
        if equals and name and name not in params:
            params[name] = _unquote(value.strip())
    return fields[0].strip(), params


def _split_fields(text: str) -> list[str]:
    fields: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            fields.append("".join(current))
            current = []
            continue
        current.append(char)
    fields.append("".join(current))
    return fields


def _unquote(value: str) -> str:
    if not value.startswith('"'):
        return value
    inner = value[1:]
    out: list[str] = []
    index = 0
    while index < len(inner):
        char = inner[index]
        if char == "\\" and index + 1 < len(inner) and inner[index + 1] in '"\\':
            out.append(inner[index + 1])
            index += 2
            continue
        if char == '"':
            break
        out.append(char)
        index += 1
    return "".join(out)


def parameter(params: dict[str, str], name: str) -> str | None:
    """One parameter, joined from RFC 2231 sections and decoded, or ``None`` if absent."""
    sections: dict[int, tuple[bool, str]] = {}
    for key, value in params.items():
        match = _PARAM_NAME.fullmatch(key)
        if match is None or match.group("name") != name:
            continue
        index = int(match.group("index") or 0)
        extended = match.group("extended") is not None
        if match.group("index") is None and not extended and 0 in sections:
            continue  # a plain name= next to name*= (the extended form wins)
        sections[index] = (extended, value)
    if not sections:
        return None
    ordered = [sections[index] for index in sorted(sections)[:_MAX_SECTIONS]]
    if not any(extended for extended, _value in ordered):
        return decode_words("".join(value for _extended, value in ordered))
    return _rfc2231(ordered)


def _rfc2231(sections: list[tuple[bool, str]]) -> str:
    charset: str | None = None
    first_extended, first = sections[0]
    if first_extended and first.count("'") >= 2:
        charset, _language, first = first.split("'", 2)
        sections = [(True, first), *sections[1:]]
    pieces: list[bytes | str] = []
    for extended, value in sections:
        piece: bytes | str = unquote_to_bytes(value) if extended else value
        if pieces and isinstance(piece, bytes) and isinstance(pieces[-1], bytes):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return "".join(p if isinstance(p, str) else decode_bytes(p, charset) for p in pieces)


def clean_filename(name: str | None) -> str | None:
    """The last path segment, without control characters, NFC-normalised; ``None`` if empty.

    A name like ``C:\\fakepath\\表.xlsx`` or ``../../x`` must not become a path anywhere.
    """
    if name is None:
        return None
    name = _CONTROL.sub("", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name).strip()
    return name if name not in ("", ".", "..") else None
