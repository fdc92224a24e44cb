"""A content-addressed store for everything intake receives, written so a crash loses nothing.

Each object is stored once under its SHA-256: ``root/ab/cd/abcd…``. Two levels of two hex
digits keep every folder small (65,536 leaves) even after years of campaigns.

``put`` writes a temporary file in the destination folder, flushes it to disk, renames it into
place and flushes the folder, so after ``put`` returns the object survives a power cut, and a
crash in the middle leaves either nothing or a complete object (plus, at worst, a ``.tmp-``
file that no reader ever looks at). Putting the same bytes twice writes nothing the second time.

``get`` checks the hash of what it read, because a disk, a backup restore or a person can
corrupt a file, and intake must not record a wrong workbook as what a unit sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from ..errors import DubanError

_SHA256 = re.compile(r"[0-9a-f]{64}")
_READ_ONLY = 0o444


class RawStoreError(DubanError):
    """An object is missing or damaged in the raw store."""


class CorruptObjectError(RawStoreError):
    """The bytes stored under a hash no longer have that hash."""


class MissingObjectError(RawStoreError):
    """No object is stored under that hash."""


class RawStore:
    """``RawStore(root)``: ``put`` bytes, get them back by their SHA-256 hex digest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha: str) -> Path:
        """Where the object with this hash lives (whether or not it exists)."""
        if not _SHA256.fullmatch(sha):
            raise ValueError(f"not a lower-case SHA-256 hex digest: {sha[:80]!r}")
        return self.root / sha[:2] / sha[2:4] / sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data`` durably and return its SHA-256 hex digest."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if _complete(target, len(data)):
            return sha
        _make_folders(self.root, target.parent)
        _write_atomically(target, data)
        return sha

    def get(self, sha: str) -> bytes:
        """The stored bytes, checked against their hash."""
        target = self.path(sha)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise MissingObjectError(f"raw store: no object {sha} under {self.root}") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise CorruptObjectError(
                f"raw store: {target} is damaged (its content no longer has its hash)",
                hint="restore the file from a backup; the ledger still knows what it should be",
            )
        return data


def _complete(target: Path, size: int) -> bool:
    """An existing object of the right size was written by an earlier ``put``.

    Comparing the size is cheap and catches the damage a crash on a careless file system can
    leave (a truncated file); ``get`` checks the hash in full.
    """
    try:
        return target.stat().st_size == size
    except FileNotFoundError:
        return False


def _make_folders(root: Path, folder: Path) -> None:
    """Create ``root/ab/cd`` and flush each new folder's entry into its parent."""
    root.mkdir(parents=True, exist_ok=True)
    for new in (folder.parent, folder):
        if not new.is_dir():
            with contextlib.suppress(FileExistsError):
                new.mkdir()
            _fsync_folder(new.parent)


def _write_atomically(target: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(_READ_ONLY)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (POSIX needs the folder flushed)."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
