"""Sources on the local file system: a Maildir, and a drop folder of bare files.

Both follow the IMAP source's rule: an item stays where it is until the caller has recorded it,
then ``done`` moves it aside (never deletes it), so a crash at any point loses nothing and
``fetch`` after a restart returns exactly what is not yet recorded. Moves are renames within
one file system, flushed to disk, so an item is always in exactly one place.

**Maildir** (``maildir:PATH``): the messages in ``new/`` and ``cur/``, ``ref`` = the Maildir
key (the file name up to ``:``), ``received_at`` = the file's modification time, which the
delivery agent sets at delivery. Messages flagged ``T`` (deleted, waiting to be expunged) are
skipped. ``done`` moves a message into the Maildir++ sub-folder ``.duban.processed/cur/`` with
its flags, where an IMAP server over the same Maildir shows it as ``duban.processed``.

**Drop folder** (``dir:PATH``): every regular file below PATH, except in ``PATH/processed/``, is
one item (``is_message=False``), ``ref`` = its path relative to PATH. Names starting with ``.``
or ``~$`` are skipped: the first is how a careful writer hides a file until it is complete (copy
to ``.name``, then rename), the second is an Office lock file. Symbolic links are skipped, so a
link cannot pull in a file from elsewhere. ``done`` moves the file into ``PATH/processed/``
under its own name, adding `` (2)``, `` (3)``… before the extension when the name is taken; if
the file changed after ``fetch`` (a unit sent a corrected version under the same name), it is
left where it is and comes back from the next ``fetch``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Self

from duban.adapters.sources.model import RawItem
from duban.adapters.sources.spec import spec_error

PROCESSED_MAILDIR = ".duban.processed"
PROCESSED_DIR = "processed"
_MAILDIR_SUBFOLDERS = ("cur", "new", "tmp")


class _Closable:
    """Context-manager support for sources that hold nothing open."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""


@dataclass(frozen=True)
class _Entry:
    path: Path
    ref: str
    mtime_ns: int


class MaildirSource(_Closable):
    """``open_source("maildir:PATH")``: the messages of one Maildir, earliest delivery first."""

    def __init__(self, path: Path) -> None:
        missing = [name for name in _MAILDIR_SUBFOLDERS if not (path / name).is_dir()]
        if missing:
            raise spec_error(
                f"{path} is not a Maildir (no {', '.join(missing)} folder)",
                "name the Maildir folder itself (the one holding cur, new and tmp)",
            )
        _check_readable(path / "new", path / "cur")
        self.path = path
        self.name = f"maildir:{path}"
        self._seen: dict[str, Path] = {}
        """Where ``fetch`` read each message, so ``done`` need not look for it."""

    def fetch(self, limit: int) -> Iterator[RawItem]:
        """Up to ``limit`` messages, earliest delivery first; one moved away meanwhile (by
        another reader) is skipped, so a batch is short only when the Maildir is."""
        return itertools.islice(self._items(), max(limit, 0))

    def _items(self) -> Iterator[RawItem]:
        for entry in self._pending():
            found = self._read(entry)
            if found is None:
                continue  # moved away meanwhile (by done() or by another reader)
            path, data = found
            self._seen[entry.ref] = path
            received = datetime.fromtimestamp(entry.mtime_ns / 1e9, tz=UTC)
            yield RawItem(self.name, entry.ref, data, received, is_message=True)

    def done(self, ref: str) -> None:
        """Move the message into ``.duban.processed/cur/``; a message already moved is a no-op.

        The message is moved from where ``fetch`` read it; only if it is no longer there (a
        delivery agent moved it from new/ to cur/, or changed its flags) is it looked for."""
        self.done_many([ref])

    def done_many(self, refs: Sequence[str]) -> None:
        """``done`` for each message, flushing each folder touched once at the end."""
        for ref in refs:
            _check_key(ref)
        touched: set[Path] = set()
        for ref in refs:
            seen = self._seen.pop(ref, None)
            moved = self._move(seen, ref, missing_ok=True) if seen is not None else None
            if moved is None and (found := self._locate(ref)) is not None:
                moved = self._move(found, ref, missing_ok=False)
            touched.update(moved or ())
        _fsync_folders(touched)

    def _move(self, found: Path, ref: str, *, missing_ok: bool) -> tuple[Path, Path] | None:
        """Rename the message into the processed folder; the two folders to flush, or None
        when it was gone (and ``missing_ok``)."""
        if missing_ok and not found.is_file():
            return None
        target = _processed_maildir(self.path)
        name = found.name if found.parent.name == "cur" else f"{ref}:2,"
        try:
            found.rename(target / "cur" / name)
        except FileNotFoundError:
            if missing_ok and not found.exists():
                return None
            raise
        return found.parent, target / "cur"

    def _pending(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for sub in ("new", "cur"):
            for item in _regular_files(self.path / sub):
                key, _, info = item.name.partition(":")
                if item.name.startswith(".") or "T" in _flags(info):
                    continue
                entries.append(_Entry(Path(item.path), key, item.stat().st_mtime_ns))
        return sorted(entries, key=lambda entry: (entry.mtime_ns, entry.ref))

    def _read(self, entry: _Entry) -> tuple[Path, bytes] | None:
        """Where the message is and its bytes; a delivery agent may have moved it from new/ to
        cur/."""
        try:
            return entry.path, entry.path.read_bytes()
        except FileNotFoundError:
            moved = self._locate(entry.ref)
        try:
            return None if moved is None else (moved, moved.read_bytes())
        except FileNotFoundError:
            return None

    def _locate(self, key: str) -> Path | None:
        for sub in ("new", "cur"):
            for item in _regular_files(self.path / sub):
                if item.name == key or item.name.startswith(f"{key}:"):
                    return Path(item.path)
        return None


class DirSource(_Closable):
    """``open_source("dir:PATH")``: every file dropped below PATH, oldest modification first."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise spec_error(f"{path} is not a folder", "name an existing drop folder")
        _check_readable(path)
        self.path = path
        self.name = f"dir:{path}"
        self._seen: dict[str, tuple[int, int, int, int]] = {}

    def fetch(self, limit: int) -> Iterator[RawItem]:
        """Up to ``limit`` files, oldest first; one moved away meanwhile is skipped."""
        return itertools.islice(self._items(), max(limit, 0))

    def _items(self) -> Iterator[RawItem]:
        for entry in self._pending():
            try:
                with entry.path.open("rb") as handle:
                    signature = _signature(os.fstat(handle.fileno()))
                    data = handle.read()
            except FileNotFoundError:
                continue
            self._seen[entry.ref] = signature
            received = datetime.fromtimestamp(signature[3] / 1e9, tz=UTC)
            yield RawItem(self.name, entry.ref, data, received, is_message=False)

    def done(self, ref: str) -> None:
        """Move the file into ``processed/`` unless it changed since ``fetch`` read it."""
        self.done_many([ref])

    def done_many(self, refs: Sequence[str]) -> None:
        """``done`` for each file, flushing each folder touched once at the end."""
        sources = [self.path / _relative(ref) for ref in refs]
        touched: set[Path] = set()
        for ref, source in zip(refs, sources, strict=True):
            try:
                current = _signature(source.lstat())
            except FileNotFoundError:
                continue  # already moved
            seen = self._seen.pop(ref, None)
            if seen is not None and seen != current:
                continue  # replaced after fetch: the new version comes back from the next fetch
            target = self.path / PROCESSED_DIR
            target.mkdir(exist_ok=True)
            _move_without_clobbering(source, target)
            touched.update((target, source.parent))
        _fsync_folders(touched)

    def _pending(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for folder, subfolders, _files in os.walk(self.path):
            here = Path(folder)
            subfolders[:] = sorted(
                name
                for name in subfolders
                if not _hidden(name) and not (here == self.path and name == PROCESSED_DIR)
            )
            for item in _regular_files(here):
                if _hidden(item.name):
                    continue
                ref = Path(item.path).relative_to(self.path).as_posix()
                entries.append(_Entry(Path(item.path), ref, item.stat().st_mtime_ns))
        return sorted(entries, key=lambda entry: (entry.mtime_ns, entry.ref))


def _regular_files(folder: Path) -> list[os.DirEntry[str]]:
    """Regular files directly in ``folder`` (symbolic links are not followed)."""
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if entry.is_file(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _flags(info: str) -> str:
    return info[2:] if info.startswith("2,") else ""


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


def _signature(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _check_key(key: str) -> None:
    if not key or "/" in key or "\0" in key or key.startswith(".") or ":" in key:
        raise ValueError(f"not a Maildir key: {key[:80]!r}")


def _relative(ref: str) -> Path:
    """A ref from ``fetch`` as a path below the drop folder, refusing anything that escapes."""
    parts = PurePosixPath(ref).parts
    if (
        not parts
        or ref.startswith("/")
        or "\0" in ref
        or any(part in ("..", ".") for part in parts)
        or parts[0] == PROCESSED_DIR
    ):
        raise ValueError(f"not a drop-folder ref: {ref[:80]!r}")
    return Path(*parts)


def _check_readable(*folders: Path) -> None:
    for folder in folders:
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            raise spec_error(
                f"{folder} cannot be read and written by this user",
                "give the user running duban read and write access to the folder",
            )


def _processed_maildir(root: Path) -> Path:
    """``root/.duban.processed`` as a Maildir++ sub-folder, owned like ``root``."""
    target = root / PROCESSED_MAILDIR
    owner = root.stat()
    for folder in (target, *(target / name for name in _MAILDIR_SUBFOLDERS)):
        if not folder.is_dir():
            with contextlib.suppress(FileExistsError):
                folder.mkdir(mode=0o700)
            _same_owner(folder, owner)
            _fsync_folder(folder.parent)
    marker = target / "maildirfolder"
    if not marker.exists():
        marker.touch(mode=0o600)
        _same_owner(marker, owner)
    return target


def _same_owner(path: Path, owner: os.stat_result) -> None:
    """Running as root over a mail user's Maildir must not leave root-owned folders in it."""
    if os.geteuid() == 0 and (owner.st_uid, owner.st_gid) != (0, 0):
        os.chown(path, owner.st_uid, owner.st_gid)


def _move_without_clobbering(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder``; ``name (2).ext`` etc. when the name is taken. The
    caller flushes both folders.

    A hard link fails instead of replacing an existing file, so two movers can never overwrite
    each other; file systems without hard links fall back to a checked rename.
    """
    stem, suffix = _split_name(source.name)
    for attempt in range(1, 10_000):
        target = folder / (source.name if attempt == 1 else f"{stem} ({attempt}){suffix}")
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:
            if target.exists() or target.is_symlink():
                continue
            source.rename(target)
        else:
            source.unlink()
        return target
    raise FileExistsError(f"no free name for {source.name} in {folder}")


def _split_name(name: str) -> tuple[str, str]:
    """``材料.xlsx`` → (``材料``, ``.xlsx``); ``a.tar.gz`` keeps only ``.gz`` as the suffix."""
    dot = name.rfind(".")
    return (name, "") if dot <= 0 else (name[:dot], name[dot:])


def _fsync_folders(folders: Iterable[Path]) -> None:
    for folder in folders:
        _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
