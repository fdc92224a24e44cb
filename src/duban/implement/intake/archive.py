"""Unpacking the zip a unit wrapped its workbook in, under the same caps as a workbook.

Windows' built-in "send to compressed folder" and most Chinese archivers write names in the
local code page (GBK) without the UTF-8 flag, which ``zipfile`` then reads as CP437 mojibake;
the raw bytes are recovered and decoded as GB18030 (a superset of GBK) unless they are valid
UTF-8, or the Info-ZIP Unicode path field says better. Names are only labels: nothing is ever
written to a path taken from an archive.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

from duban.implement.intake.limits import Limits
from duban.implement.intake.model import FoundFile
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import Kind, sniff
from duban.implement.intake.zipread import Budget, open_zip, read_member

_UTF8_FLAG = 0x800
_UNICODE_PATH_FIELD = 0x7075
_JUNK_FOLDERS = ("__MACOSX/",)
"""macOS adds resource forks under this folder: never what the unit meant to send."""


def unpack_archive(
    data: bytes,
    limits: Limits = Limits(),  # noqa: B008 - a frozen dataclass
    *,
    path: tuple[str, ...] = (),
) -> list[FoundFile]:
    """The files inside a zip, each labelled with ``path`` (the archive's own place, e.g.
    ``("材料.zip",)``) plus the folders it sat in. An archive inside is unpacked while within
    ``limits.max_archive_depth``, else the whole archive is refused as ``nested-archive``."""
    return _unpack(data, limits, path, Budget(limits), depth=1)


def _unpack(
    data: bytes, limits: Limits, path: tuple[str, ...], budget: Budget, depth: int
) -> list[FoundFile]:
    found: list[FoundFile] = []
    with open_zip(data, limits) as archive:
        infos = [info for info in archive.infolist() if not _skipped(info)]
        budget.check_declared(infos)
        for info in infos:
            content = read_member(archive, info, budget)
            *folders, name = _label(info)
            where = (*path, *folders)
            if sniff(content, name) is not Kind.ZIP:
                found.append(FoundFile(filename=name, content_type=None, data=content, path=where))
            elif depth < limits.max_archive_depth:
                found += _unpack(content, limits, (*where, name), budget, depth + 1)
            else:
                raise FileRejected("nested-archive", {"part": "/".join((*where, name))})
    return found


def _skipped(info: zipfile.ZipInfo) -> bool:
    return info.is_dir() or info.filename.startswith(_JUNK_FOLDERS)


def decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author saw it."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _label(info: zipfile.ZipInfo) -> list[str]:
    """Folders and file name, with every part that could mean "elsewhere" dropped."""
    parts = decoded_name(info).replace("\\", "/").split("/")
    clean = [p.strip() for p in parts if p.strip() not in ("", ".", "..")]
    return clean or ["(unnamed)"]


def _unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field, if present and written for this very name."""
    offset = 0
    while offset + 4 <= len(extra):
        field, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if field != _UNICODE_PATH_FIELD or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
            return None  # the name was changed after the field was written
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None
