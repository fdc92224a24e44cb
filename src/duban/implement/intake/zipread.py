"""Reading a received zip under caps: its directory before it is parsed, members in chunks.

``zipfile`` builds an object per directory entry before anything can count them, so the end
of central directory record is read first and an absurd directory is refused unparsed. Members
are read in chunks against one running budget shared by the whole file (or the whole archive
and what it contains), so a bomb stops at the cap instead of at the end of memory.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from duban.implement.intake.limits import Limits
from duban.implement.intake.reasons import FileRejected

CHUNK = 256 * 1024

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_MIN_DIRECTORY_ENTRY = 46
_DIRECTORY_BYTES_PER_ENTRY = 1_024
"""A generous average for one directory entry: 46 bytes, its name and its extra fields."""
_ENCRYPTED_FLAG = 0x1
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError)


@dataclass(frozen=True)
class Directory:
    """What the end of central directory record claims, before the directory is parsed."""

    entries: int
    size: int


def directory_of(data: bytes) -> Directory | None:
    """The central directory's claimed entry count and size; None when there is no record."""
    start = max(0, len(data) - _EOCD_SIZE - _MAX_COMMENT)
    at = data.rfind(_EOCD, start)
    if at < 0 or at + _EOCD_SIZE > len(data):
        return None
    entries, size = struct.unpack_from("<xxxxxxxxxxHI", data, at)
    locator = at - 20
    if locator >= 0 and data.startswith(_ZIP64_LOCATOR, locator):
        record = struct.unpack_from("<Q", data, locator + 8)[0]
        if record + 56 <= len(data) and data.startswith(_ZIP64_EOCD, record):
            entries, size = struct.unpack_from("<QQ", data, record + 32)
    return Directory(entries=entries, size=size)


def open_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The zip, after checking size and directory; ``FileRejected`` says why not."""
    if len(data) > limits.max_file_bytes:
        raise FileRejected(
            "too-large",
            {"size_mb": len(data) / 2**20, "limit_mb": limits.max_file_bytes / 2**20},
        )
    directory = directory_of(data)
    if directory is None:
        raise FileRejected("unreadable", {"reason": "no zip directory"})
    # The count can lie; the directory's size bounds what parsing it costs (≥ 46 bytes each).
    too_big = directory.size > limits.max_entries * _DIRECTORY_BYTES_PER_ENTRY
    if directory.entries > limits.max_entries or too_big:
        entries = max(directory.entries, directory.size // _MIN_DIRECTORY_ENTRY)
        raise FileRejected("too-many-entries", {"entries": entries})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS as exc:
        raise FileRejected("unreadable", {"reason": str(exc)[:200]}) from exc
    if len(archive.infolist()) > limits.max_entries:
        archive.close()
        raise FileRejected("too-many-entries", {"entries": len(archive.infolist())})
    return archive


class Budget:
    """The uncompressed bytes still allowed for one received file, spent while reading."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.max_uncompressed_bytes

    def check_declared(self, infos: list[zipfile.ZipInfo]) -> None:
        """Refuse on what the directory declares: totals and per-member ratio."""
        declared = sum(info.file_size for info in infos)
        if declared > self.left:
            raise FileRejected(
                "zip-bomb", {"declared_mb": declared / 2**20, "limit_mb": self.left / 2**20}
            )
        for info in infos:
            if info.file_size > self.limits.ratio_floor_bytes:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > self.limits.max_ratio:
                    raise FileRejected("zip-bomb", {"part": info.filename, "ratio": ratio})

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            raise FileRejected("zip-bomb", {"limit_mb": self.limits.max_uncompressed_bytes / 2**20})


def chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> Iterator[bytes]:
    """A member's content in chunks, each paid for from ``budget`` before it is yielded."""
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise FileRejected("encrypted", {"what": "archive", "part": info.filename})
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                budget.spend(len(chunk))
                yield chunk
    except _READ_ERRORS as exc:
        raise FileRejected("unreadable", {"part": info.filename, "reason": str(exc)[:200]}) from exc


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    return b"".join(chunks(archive, info, budget))
