"""Copy a zip with one member replaced, reusing every other member's compressed bytes.

zipfile can only write a member by compressing it again; for a personalised template that
would recompress every sheet for every unit. Here the unchanged members are laid out once
(local headers and data are position-independent) and a copy appends the new member and a
central directory, which is all a zip reader needs.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION = 20  # 2.0: deflate, no zip64
_UTF8_FLAG = 0x800
_LIMIT = 0xFFFFFFFF  # past this a zip needs zip64, which a template never does


@dataclass(frozen=True)
class _Member:
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed: bytes
    size: int

    def local_record(self) -> bytes:
        header = _LOCAL.pack(
            _LOCAL_SIG, _VERSION, self.flags, self.method, self.dos_time, self.dos_date,
            self.crc, len(self.compressed), self.size, len(self.name), 0,
        )  # fmt: skip
        return header + self.name + self.compressed

    def central_record(self, offset: int) -> bytes:
        header = _CENTRAL.pack(
            _CENTRAL_SIG, _VERSION, _VERSION, self.flags, self.method, self.dos_time,
            self.dos_date, self.crc, len(self.compressed), self.size, len(self.name),
            0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        return header + self.name


class ZipCopier:
    """Makes copies of ``archive`` in which member ``replaced`` has new content."""

    def __init__(self, archive: bytes, replaced: str) -> None:
        members = _read_members(archive)
        names = [m.name.decode("utf-8") for m in members]
        if replaced not in names:
            raise ValueError(f"{replaced} is not in the archive")
        self._template = members[names.index(replaced)]
        kept = [m for m in members if m.name.decode("utf-8") != replaced]
        locals_: list[bytes] = []
        centrals: list[bytes] = []
        offset = 0
        for member in kept:
            record = member.local_record()
            centrals.append(member.central_record(offset))
            locals_.append(record)
            offset += len(record)
        self._prefix = b"".join(locals_)
        self._central = b"".join(centrals)
        self._count = len(members)

    def copy(self, content: bytes, level: int = 6) -> bytes:
        """The archive with the replaced member's content set to ``content`` (deflated)."""
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        compressed = packer.compress(content) + packer.flush()
        template = self._template
        member = _Member(
            template.name, template.flags, zipfile.ZIP_DEFLATED, template.dos_time,
            template.dos_date, zlib.crc32(content), compressed, len(content),
        )  # fmt: skip
        local = member.local_record()
        central = self._central + member.central_record(len(self._prefix))
        start = len(self._prefix) + len(local)
        end = _END.pack(_END_SIG, 0, 0, self._count, self._count, len(central), start, 0)
        return b"".join((self._prefix, local, central, end))


def _read_members(archive: bytes) -> list[_Member]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return [_member(archive, info) for info in zf.infolist()]


def _member(archive: bytes, info: zipfile.ZipInfo) -> _Member:
    if info.flag_bits & 0x1:
        raise ValueError(f"{info.filename} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{info.filename}: compression method {info.compress_type}")
    if max(info.header_offset, info.compress_size, info.file_size) >= _LIMIT:
        raise ValueError("zip64 archives are not supported")
    fields = _LOCAL.unpack_from(archive, info.header_offset)
    if fields[0] != _LOCAL_SIG:
        raise ValueError(f"{info.filename}: bad local header")
    start = info.header_offset + _LOCAL.size + fields[9] + fields[10]
    compressed = archive[start : start + info.compress_size]
    year, month, day, hour, minute, second = info.date_time
    name = info.filename.encode("utf-8")
    flags = _UTF8_FLAG if not info.filename.isascii() else 0
    return _Member(
        name=name,
        flags=flags,  # no data descriptor: sizes are in the headers we write
        method=info.compress_type,
        dos_time=(hour << 11) | (minute << 5) | (second // 2),
        dos_date=((year - 1980) << 9) | (month << 5) | day,
        crc=info.CRC,
        compressed=compressed,
        size=info.file_size,
    )
