"""Unpack Outlook's ``winmail.dat`` (TNEF) with tnefparse, without letting it raise or hang.

Outlook sends attachments inside a ``winmail.dat`` (``application/ms-tnef``) when it keeps
"rich text" formatting. tnefparse reads it, with three weaknesses this module covers:

* **Names.** It decodes the short title (``attAttachTitle``) as UTF-8, so a GBK title from a
  Chinese Outlook raises ``UnicodeDecodeError`` as soon as the name is asked for, unless the
  attachment also has the long-file-name MAPI property. The title's bytes are taken from the
  stream here and decoded as UTF-8 if valid, else GB18030; a name that had to be guessed or
  generated is reported as a problem.
* **Errors.** A truncated or garbage stream raises anything (``struct.error``,
  ``UnboundLocalError``, ``ValueError``…); every error becomes a problem.
* **Hostile counts.** It trusts the counts in the stream: a multi-valued property claiming
  4 billion two-byte values loops 4 billion times. Every count is checked against the bytes
  that remain before tnefparse sees the stream, so work stays proportional to its size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# tnefparse ships no type information (an override in pyproject.toml would replace these).
from tnefparse import properties
from tnefparse.mapi import IMESSAGE_SIG
from tnefparse.tnef import TNEF, TNEFAttachment, TNEFObject

from duban.implement.intake.mimetext import clean_filename, decode_bytes

MAX_EMBEDDED_DEPTH = 3
_SIGNATURE = 0x223E9F78
_MIN_OBJECT = 12  # tnefparse stops when fewer bytes than this remain
_GUID_FLAG = 0x8000
_MULTI_FLAG = 0x1000
_FIXED_SIZES = {
    0x0002: 2, 0x000B: 2,  # short, boolean
    0x0003: 4, 0x0004: 4, 0x000A: 4,  # int, float, error
    0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8,  # double, currency, apptime, i8, time
    0x0048: 16,  # GUID
}  # fmt: skip
_VARIABLE = {0x0000, 0x000D, 0x001E, 0x001F, 0x0102}  # unspecified, object, strings, binary
_COPY_BUDGET = 20_000_000_000  # 5,000 attributes before 4 MB: 0.4 s in tnefparse


@dataclass(frozen=True)
class TnefFile:
    """One attachment from the stream; ``path`` names embedded messages it was inside."""

    filename: str | None
    content_type: str | None
    data: bytes
    path: tuple[str, ...] = ()


@dataclass
class TnefResult:
    """What was unpacked. ``complete`` is false when the stream could not be read, or only in
    part (damaged or cut short): the caller should then keep the stream itself as well."""

    files: list[TnefFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    complete: bool = True


def unpack_tnef(data: bytes, label: str = "winmail.dat") -> TnefResult:
    """Every attachment in a TNEF stream; never raises."""
    result = TnefResult()
    _unpack(data, label, (), 0, result)
    if result.complete and truncated(data):
        result.complete = False
        result.problems.append(f"{label}: the stream is cut short; what it holds may be missing")
    if result.complete and not result.files:
        result.problems.append(f"{label}: holds no attached files")
    return result


def _unpack(data: bytes, label: str, path: tuple[str, ...], depth: int, out: TnefResult) -> None:
    doubt = implausible(data)
    if doubt is not None:
        out.problems.append(f"{label}: not read ({doubt})")
        out.complete = False
        return
    try:
        stream = TNEF(data, do_checksum=False)
        titles = _titles(stream.objects)
        for index, attachment in enumerate(stream.attachments):
            title = titles[index] if index < len(titles) else None
            _attachment(attachment, title, index + 1, label, path, depth, out)
    except Exception as exc:  # tnefparse raises anything on a damaged stream
        out.problems.append(f"{label}: not read ({type(exc).__name__}: {exc})"[:300])
        out.complete = False


def _attachment(
    attachment: TNEFAttachment,
    title: bytes | None,
    number: int,
    label: str,
    path: tuple[str, ...],
    depth: int,
    out: TnefResult,
) -> None:
    """One attachment as a file, or the attachments of an attached message (recursively)."""
    name = _name(attachment, title, number, label, out)
    if isinstance(getattr(attachment, "embed", None), TNEF):
        if depth >= MAX_EMBEDDED_DEPTH:
            out.problems.append(f"{label}: attached messages nested too deep; not read")
            return
        _unpack(attachment.data, label, (*path, name), depth + 1, out)
        return
    data = attachment.data if isinstance(attachment.data, bytes) else b""
    out.files.append(TnefFile(name, _mime_tag(attachment), data, path))


def _titles(objects: list[TNEFObject]) -> list[bytes | None]:
    """The raw ``attAttachTitle`` bytes of each attachment, in tnefparse's attachment order.

    tnefparse starts an attachment at every ``attAttachRendData``; the title that follows
    belongs to it.
    """
    titles: list[bytes | None] = []
    for obj in objects:
        if obj.name == TNEF.ATTATTACHRENDDATA:
            titles.append(None)
        elif obj.level == TNEF.LVL_ATTACHMENT and obj.name == TNEF.ATTATTACHTITLE and titles:
            raw = obj.data
            titles[-1] = bytes(raw).rstrip(b"\0") if isinstance(raw, bytes | bytearray) else None
    return titles


def _name(
    attachment: TNEFAttachment, title: bytes | None, number: int, label: str, out: TnefResult
) -> str:
    """The long file name if present; else the short title, decoded here; else generated.

    The stream's OEM code page is not used for the title: Chinese Outlook writes GBK there
    whatever it declares, and a valid UTF-8 title is taken as UTF-8.
    """
    where = f"{label}: attachment {number}"
    long_name = clean_filename(_text(_attribute(attachment, properties.MAPI_ATTACH_LONG_FILENAME)))
    if long_name:
        return long_name
    name = clean_filename(decode_bytes(title)) if title else None
    if title and name:
        if not title.isascii():
            codec = "UTF-8" if _is_utf8(title) else "GB18030"
            out.problems.append(
                f"{where} has no long file name; its short title was read as {codec}: {name}"
            )
        return name
    extension = _text(_attribute(attachment, properties.MAPI_ATTACH_EXTENSION)) or ""
    suffix = extension if extension.startswith(".") and len(extension) <= 10 else ""
    generated = f"winmail-attachment-{number}{suffix}"
    out.problems.append(f"{where} has no file name; it was named {generated}")
    return generated


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _attribute(attachment: TNEFAttachment, name: int) -> object:
    for attribute in attachment.mapi_attrs:
        if attribute.name == name:
            try:
                return attribute.data
            except Exception:  # a malformed value; treat as absent
                return None
    return None


def _mime_tag(attachment: TNEFAttachment) -> str | None:
    tag = _text(_attribute(attachment, properties.MAPI_ATTACH_MIME_TAG))
    return (tag.strip().lower() or None) if tag else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def implausible(data: bytes, depth: int = 0) -> str | None:
    """Why the stream cannot be handed to tnefparse safely, or ``None`` if it can.

    tnefparse copies the rest of the stream for every attribute it reads, so the number of
    attributes times the stream's size is bounded too (``_COPY_BUDGET``).
    """
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _SIGNATURE:
        return "not a TNEF stream (wrong signature)"
    offset, objects = 6, 0
    while offset + _MIN_OBJECT < len(data):
        objects += 1
        if objects * len(data) > _COPY_BUDGET:
            return f"more than {objects - 1} attributes in {len(data)} bytes"
        _level, name, _kind, length = struct.unpack_from("<BHHI", data, offset)
        if name in (TNEF.ATTMAPIPROPS, TNEF.ATTATTACHMENT):
            doubt = _mapi_implausible(data[offset + 9 : offset + 9 + length], depth)
            if doubt is not None:
                return doubt
        offset += min(len(data) - offset, length + 11)
    return None


def truncated(data: bytes) -> bool:
    """The last attribute runs past the end, or bytes are left over that tnefparse ignores."""
    offset = 6
    while offset + _MIN_OBJECT < len(data):
        length = struct.unpack_from("<I", data, offset + 5)[0]
        if length + 11 > len(data) - offset:
            return True
        offset += length + 11
    return offset != len(data)


def _mapi_implausible(body: bytes, depth: int) -> str | None:
    """Walk the MAPI properties exactly as tnefparse's ``decode_mapi`` will.

    Loops that consume at least four bytes per turn, or stop at the end of the data, are
    safe; the one that does not is a multi-valued fixed-size property, whose values
    tnefparse slices silently past the end, so its count is checked.
    """
    size = len(body)
    if size < 4:
        return None  # tnefparse raises at once, which is caught
    count = struct.unpack_from("<I", body)[0]
    if count > size // 4:
        return f"{count} MAPI properties in {size} bytes"
    offset = 4
    for _ in range(count):
        if offset + 4 > size:
            return None
        kind, name = struct.unpack_from("<HH", body, offset)
        offset += 4
        if name >= _GUID_FLAG:
            if offset + 24 > size:
                return None
            named_kind, length = struct.unpack_from("<II", body, offset + 16)
            offset += 24 if named_kind == 0 else 24 + length + (-length % 4)
        repeat = 0
        if kind & _MULTI_FLAG:
            kind ^= _MULTI_FLAG
            if offset + 4 > size:
                return None
            repeat = struct.unpack_from("<I", body, offset)[0]
            offset += 4
        step = _values(body, offset, kind, name, repeat, depth)
        if not isinstance(step, int):
            return step
        offset = step
    return None


def _values(
    body: bytes, offset: int, kind: int, name: int, repeat: int, depth: int
) -> int | str | None:
    """The offset after one property; a reason if implausible; ``None`` where tnefparse stops."""
    size = len(body)
    fixed = _FIXED_SIZES.get(kind)
    if fixed is not None:
        if (repeat or 1) * fixed > size - offset + fixed:
            return f"{repeat} values of {fixed} bytes in {size - offset} bytes"
        offset += (repeat or 1) * fixed
        return offset + 2 if fixed == 2 and (repeat or 1) % 2 else offset
    if kind not in _VARIABLE:
        return None  # tnefparse raises ValueError for an unknown type, which is caught
    for _ in range(repeat or 1):
        items = 1
        if not repeat:
            if offset + 4 > size:
                return None
            items = struct.unpack_from("<I", body, offset)[0]
            offset += 4
        for _ in range(items):
            if offset + 4 > size:
                return None
            length = struct.unpack_from("<I", body, offset)[0]
            value = body[offset + 4 : offset + 4 + length]
            if name == properties.MAPI_ATTACH_DATA_OBJ and value.startswith(IMESSAGE_SIG):
                if depth >= MAX_EMBEDDED_DEPTH:
                    return "attached messages nested too deep"
                inner = implausible(value[len(IMESSAGE_SIG) :].rstrip(b"\0"), depth + 1)
                if inner is not None:
                    return f"attached message: {inner}"
            offset += 4 + length + (-length % 4)
    return None if offset > size else offset
