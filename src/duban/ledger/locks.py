"""One run at a time over a shared thing (a mailbox), across processes, on either ledger.

Two runs of ``duban collect`` over one mailbox (a cron job overlapping a manual run, two
Prefect workers) would otherwise read the same messages at the same moment and race to record
them. Each batch is therefore read, recorded, answered and marked done under a lock named after
the campaign and the mailbox; the second run waits for the first's batch, then reads what is
left. Claims on each outgoing message stay as well: the lock keeps intake in order, the claims
keep every send once.

The lock dies with its holder, so a run killed with ``kill -9`` never leaves it held:

* PostgreSQL: a session-level advisory lock on a connection of its own, released when the
  connection ends (the server notices a dead client's closed socket).
* SQLite (a file, so on this machine): ``flock`` on a lock file beside the database, which the
  kernel releases when the process dies.
* An in-memory SQLite database lives in one process: nothing to lock across processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

Waiting = Callable[[], None]
"""Told once, before waiting, that another run holds the lock (so a run that seems stuck
says why)."""


@contextmanager
def exclusive(engine: Engine, name: str, on_wait: Waiting | None = None) -> Iterator[None]:
    """Hold the lock ``name`` on this ledger for the block, waiting for another holder (after
    calling ``on_wait``)."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name, on_wait):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with _flocked(_lock_file(Path(database), name), on_wait):
        yield


def _key(name: str) -> int:
    """A signed 64-bit number for ``name`` (advisory locks are numbered)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _advisory(engine: Engine, name: str, on_wait: Waiting | None) -> Iterator[None]:
    key = {"key": _key(name)}
    with engine.connect() as connection:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
            if on_wait is not None:
                on_wait()
            connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()


def _lock_file(database: Path, name: str) -> Path:
    """``<ledger>.locks/<hash>``: beside the database, so every run on it finds the same file."""
    folder = database.with_name(database.name + ".locks")
    folder.mkdir(exist_ok=True)
    return folder / hashlib.sha256(name.encode()).hexdigest()[:32]


@contextmanager
def _flocked(path: Path, on_wait: Waiting | None) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
