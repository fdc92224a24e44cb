"""The names at the top of an OLE compound file, read without any OLE library.

Legacy ``.xls`` (and WPS ``.et``), password-protected ``.xlsx`` and ``.doc`` are all compound
files; only the streams at the root tell them apart (``Workbook``, ``EncryptedPackage``,
``WordDocument``). This reads the header, follows the directory's sector chain and walks the
root's children, with every offset bounds-checked and every loop capped: the input is hostile.
"""

from __future__ import annotations

import struct

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_HEADER = 512
_ENTRY = 128
_NO_STREAM = 0xFFFFFFFF
_END_OF_CHAIN = 0xFFFFFFFE
_MAX_REGULAR = 0xFFFFFFFA
_HEADER_DIFAT = 109
_ROOT_TYPE = 5
_MAX_ROOT_CHILDREN = 4_096


class CompoundFileError(ValueError):
    """The bytes start like a compound file but their structure does not hold together."""


def root_names(data: bytes) -> set[str]:
    """Names of the storages and streams directly under the root, as written (case kept)."""
    try:
        return _root_names(data)
    except struct.error as exc:  # a read past the end of a short file
        raise CompoundFileError("the file is cut short") from exc


def _root_names(data: bytes) -> set[str]:
    header = _Header(data)
    directory = b"".join(data[o : o + header.sector_size] for o in header.directory_offsets())
    entries = [directory[i : i + _ENTRY] for i in range(0, len(directory) - _ENTRY + 1, _ENTRY)]
    if not entries or entries[0][0x42] != _ROOT_TYPE:
        raise CompoundFileError("the first directory entry is not the root")
    names: set[str] = set()
    seen: set[int] = set()
    stack = [_u32(entries[0], 0x4C)]
    while stack:
        index = stack.pop()
        if index == _NO_STREAM:
            continue
        if index in seen or index >= len(entries) or len(seen) >= _MAX_ROOT_CHILDREN:
            raise CompoundFileError("the directory tree is damaged")
        seen.add(index)
        entry = entries[index]
        names.add(_name(entry))
        stack += [_u32(entry, 0x44), _u32(entry, 0x48)]  # left and right siblings
    return names


class _Header:
    def __init__(self, data: bytes) -> None:
        if len(data) < _HEADER or not data.startswith(OLE_MAGIC):
            raise CompoundFileError("not a compound file")
        shift: int = struct.unpack_from("<H", data, 0x1E)[0]
        if shift not in (9, 12):
            raise CompoundFileError(f"unexpected sector shift {shift}")
        self.data = data
        self.sector_size = 1 << shift
        # A last sector cut short still counts: some writers do not pad the file.
        self.sectors = max(0, -(-(len(data) - self.sector_size) // self.sector_size))
        self.first_directory = _u32(data, 0x30)
        self.first_difat = _u32(data, 0x44)
        self.fat_count = _u32(data, 0x2C)
        self._fat_sectors: list[int] | None = None

    def offset(self, sector: int) -> int:
        if sector >= self.sectors:
            raise CompoundFileError(f"sector {sector} lies outside the file")
        return (sector + 1) * self.sector_size

    def directory_offsets(self) -> list[int]:
        """Offsets of the directory's sectors, following its FAT chain."""
        offsets: list[int] = []
        sector = self.first_directory
        while sector != _END_OF_CHAIN:
            if len(offsets) > self.sectors:
                raise CompoundFileError("the directory chain loops")
            offsets.append(self.offset(sector))
            sector = self.next_sector(sector)
        return offsets

    def next_sector(self, sector: int) -> int:
        per_sector = self.sector_size // 4
        fat = self.fat_sectors()
        index, slot = divmod(sector, per_sector)
        if index >= len(fat):
            raise CompoundFileError("the FAT does not cover the directory")
        return _u32(self.data, self.offset(fat[index]) + 4 * slot)

    def fat_sectors(self) -> list[int]:
        """The FAT's own sectors: 109 listed in the header, the rest in the DIFAT chain."""
        if self._fat_sectors is not None:
            return self._fat_sectors
        if self.fat_count > self.sectors:
            raise CompoundFileError("the header claims more FAT sectors than the file holds")
        found = [_u32(self.data, 0x4C + 4 * i) for i in range(_HEADER_DIFAT)]
        per_sector = self.sector_size // 4 - 1
        sector, hops = self.first_difat, 0
        while sector not in (_END_OF_CHAIN, _NO_STREAM) and len(found) < self.fat_count:
            hops += 1
            if hops > self.sectors:
                raise CompoundFileError("the DIFAT chain loops")
            start = self.offset(sector)
            found += [_u32(self.data, start + 4 * i) for i in range(per_sector)]
            sector = _u32(self.data, start + 4 * per_sector)
        self._fat_sectors = [s for s in found[: self.fat_count] if s <= _MAX_REGULAR]
        return self._fat_sectors


def _u32(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value


def _name(entry: bytes) -> str:
    length: int = struct.unpack_from("<H", entry, 0x40)[0]
    length = min(max(length - 2, 0), 62) & ~1  # bytes, without the terminating NUL
    return entry[:length].decode("utf-16-le", errors="replace")
