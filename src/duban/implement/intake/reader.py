"""Reading workbooks in worker processes that a hostile file may kill without harm.

calamine is fast but, given a forged size, aborts the whole process (a Rust allocation failure
is not an exception), and a file can make any parser run for minutes. So every file is
pre-checked and then parsed in a worker process with its address space capped (``RLIMIT_AS``)
and a time limit per file; a worker that dies or overruns is replaced, its file gets
``parser-crashed`` or ``parser-timeout``, and the batch goes on. A worker is a fresh
interpreter (``worker.py``), so its memory cap is not eaten by whatever the intake process had
mapped.

Answers come back as plain values decoded by an unpickler that knows only the date and time
classes, so even a worker subverted by a file cannot make the intake process run code.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

from duban.implement.intake import prevalidate
from duban.implement.intake.limits import Limits
from duban.implement.intake.parse import ParsedWorkbook, parse_workbook
from duban.implement.intake.prevalidate import FormsByDeliverable
from duban.implement.intake.reasons import Detail, FileRejected
from duban.implement.intake.sniff import Kind, refusal
from duban.implement.intake.worker import BOOTSTRAP, OUT_OF_MEMORY_EXIT, WorkerConfig
from duban.model.campaign import Campaign

Parser = Callable[[bytes, Kind, Limits], ParsedWorkbook]
"""What a worker runs on each file: a module-level function, imported by the worker."""

Result = ParsedWorkbook | FileRejected

GiB = 1024**3
_SHARE_FILES = 4
_SHARE_BYTES = 2 * 1024 * 1024
"""At most this many files, of at most this many bytes together, go to a worker at once (a
file larger than that goes alone): enough to keep it busy between two polls, little enough not
to eat into its memory cap."""
_MAX_ANSWER_BYTES = 512 * 1024 * 1024
_STOP_SECONDS = 2.0
_STARTUP_SECONDS = 60.0
"""Allowed on top of the time limit for a worker that has not said it is ready: the limit is
for reading a file, not for starting an interpreter on a busy machine."""


class WorkbookReader:
    """A small pool of worker processes reading workbooks; use it as a context manager, from
    one thread at a time.

    ``check_first`` has the worker run ``precheck`` on each file before its parser sees it,
    under the same memory cap and time limit (a refusal comes back as that ``FileRejected``);
    turn it off only for files already checked. With ``forms`` the worker also validates each
    workbook against the form its metadata names (``ParsedWorkbook.prevalidated``).

    Workers start in the background (an interpreter importing the parser and the forms takes a
    few tenths of a second): the caller goes on fetching and storing mail meanwhile, and files
    sent before a worker is ready wait for it. A worker that cannot start at all (duban not
    importable, say) fails the first reading with ``RuntimeError``, never a file.

    Workers die with the intake process, even killed with ``kill -9`` mid-file; on Linux with
    the thread that started them (``lifetime.die_with``), so use a reader in the thread that
    opened it.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        memory_limit: int | None = 1 * GiB,
        time_limit: float = 20.0,
        limits: Limits = Limits(),  # noqa: B008 - a frozen dataclass
        check_first: bool = True,
        parser: Parser = parse_workbook,
        forms: FormsByDeliverable | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if time_limit <= 0:
            raise ValueError("time_limit must be positive")
        self.time_limit = time_limit
        self.limits = limits
        self.check_first = check_first
        self.cores_beside_caller = max(1, _cores() - 1)
        """Workers kept busy while the caller of ``Reading.poll`` works (all while it waits)."""
        self._config = WorkerConfig(memory_limit, limits, _reference(parser), check_first, forms)
        self._folder = tempfile.TemporaryDirectory(prefix="duban-reader-")
        self._started = 0
        self._workers: list[_Worker] = []
        self._reading: Reading | None = None
        try:
            for _ in range(workers):
                self._workers.append(self._start_worker())
        except BaseException:
            self.close()
            raise

    @classmethod
    def for_campaign(cls, campaign: Campaign, workers: int = 2) -> WorkbookReader:
        """Workers validating against the campaign's forms (with the generic limits)."""
        return cls(workers, forms=FormsByDeliverable.of(campaign))

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (one changes when a worker is replaced)."""
        return [worker.pid for worker in self._workers]

    def close(self) -> None:
        """Stop every worker: close its socket (it leaves), kill it if it does not."""
        self._reading = None
        for worker in self._workers:
            worker.stop()
        self._workers = []
        self._folder.cleanup()

    def read(self, data: bytes, kind: Kind) -> ParsedWorkbook:
        """One workbook, or ``FileRejected``."""
        result = self.read_many([(data, kind)])[0]
        if isinstance(result, FileRejected):
            raise result
        return result

    def read_many(self, items: Iterable[tuple[bytes, Kind]]) -> list[Result]:
        """Each item's workbook or rejection, in the order given, with every worker busy."""
        with self.start(items) as reading:
            return reading.wait()

    def start(self, items: Iterable[tuple[bytes, Kind]] = ()) -> Reading:
        """Start reading ``items`` and return at once (see ``Reading``); a reading started
        earlier and not finished is abandoned."""
        if not self._workers:
            raise RuntimeError("this WorkbookReader is closed")
        if self._reading is not None:
            self._reading.close()
        reading = Reading(self)
        self._reading = reading
        reading.add(items)
        return reading

    def _dispatch(self, reading: Reading, busy_at_most: int | None = None) -> None:
        """Give idle workers their share of the queue (keeping at most ``busy_at_most`` of
        them busy), settling on the way the files refused up front."""
        busy = sum(1 for worker in self._workers if worker.tasks)
        for slot in range(len(self._workers)):
            if self._workers[slot].tasks:
                continue
            if busy_at_most is not None and busy >= busy_at_most:
                return
            busy += 1
            share = self._share(reading)
            if share and not self._submit(slot, share, reading):
                for index in share:
                    reading.settle(index, FileRejected("parser-crashed", {"reason": "no worker"}))

    def _share(self, reading: Reading) -> list[int]:
        """The next files for one worker: a few small ones at once (so that it need not wait
        for this process to hand it each one), fewer near the end of the queue, so every
        worker gets some; a large file on its own."""
        count = -(-len(reading.queue) // len(self._workers))
        share: list[int] = []
        size = 0
        while reading.queue and len(share) < min(count, _SHARE_FILES):
            index = reading.queue[0]
            data, kind = reading.items[index]
            refused = self._refusal(kind)
            if refused is not None:
                reading.queue.popleft()
                reading.settle(index, refused)
                continue
            if share and size + len(data) > _SHARE_BYTES:
                break
            reading.queue.popleft()
            share.append(index)
            size += len(data)
        return share

    def _submit(self, slot: int, share: list[int], reading: Reading) -> bool:
        """Send files; a worker that died between files (not their fault) is replaced and
        the files sent to the fresh one."""
        files = [reading.items[index] for index in share]
        if self._workers[slot].submit(share, files, self.time_limit):
            return True
        return self._replace(slot).submit(share, files, self.time_limit)

    def _refusal(self, kind: Kind) -> FileRejected | None:
        """Files refused without a worker: only when nothing is to be pre-checked (checked,
        every file goes to a worker, whose pre-check may refuse it with a better reason)."""
        return None if self.check_first else refusal(kind)

    def _collect(self, reading: Reading, block: bool) -> None:
        """Record every answer, death or deadline among busy workers; with ``block``, wait
        for the first of them."""
        busy = [worker for worker in self._workers if worker.tasks]
        if not busy:
            return
        if block:
            timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
            wait([worker.conn for worker in busy], timeout)
        now = time.monotonic()
        for slot, worker in enumerate(self._workers):
            while worker.tasks:
                index = worker.tasks[0]
                outcome = worker.outcome(now)
                if outcome is None:
                    break
                reading.settle(index, outcome)
                if worker.broken:
                    # The files after the one it died on are not at fault: they go again.
                    reading.queue.extendleft(reversed(worker.tasks))
                    worker.tasks.clear()
                    self._replace(slot)
                    break

    def _busy(self) -> bool:
        return any(worker.tasks for worker in self._workers)

    def _abandon(self, reading: Reading) -> None:
        """A worker still busy would answer the next reading with this one's file, so it goes."""
        for slot, worker in enumerate(self._workers):
            if worker.tasks:
                self._replace(slot)
        if self._reading is reading:
            self._reading = None

    def _start_worker(self) -> _Worker:
        self._started += 1
        log = Path(self._folder.name) / f"worker-{self._started}.log"
        return _Worker(self._config, log)

    def _replace(self, slot: int) -> _Worker:
        self._workers[slot].stop(kill=True)
        self._workers[slot] = self._start_worker()
        return self._workers[slot]


class Reading:
    """Workbooks being read while the caller does other work (``WorkbookReader.start``).

    ``add`` queues more files; ``poll`` records what the workers have answered and hands idle
    workers the next files without waiting (call it now and then, or the workers sit idle),
    leaving the caller a core; ``poll(wait=True)`` waits for the next answer; ``wait`` for
    all. ``take`` gives the results that came in since it was last called. Use it as a context
    manager: left unfinished (an exception, Ctrl-C), its busy workers are replaced, since they
    would answer the next reading with this one's files.
    """

    def __init__(self, reader: WorkbookReader) -> None:
        self._reader = reader
        self.items: list[tuple[bytes, Kind]] = []
        self.queue: deque[int] = deque()
        """Indexes in ``items`` not yet sent to a worker (the reader takes from the front)."""
        self._results: list[Result | None] = []
        self._fresh: list[tuple[int, Result]] = []
        self._closed = False

    def __enter__(self) -> Reading:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def done(self) -> bool:
        """Every file added so far has its result."""
        return not self.queue and not self._reader._busy()

    def add(self, items: Iterable[tuple[bytes, Kind]]) -> range:
        """Queue files to read, handing idle workers the first at once; their indexes."""
        first = len(self.items)
        for item in items:
            self.queue.append(len(self.items))
            self.items.append(item)
            self._results.append(None)
        self.poll()
        return range(first, len(self.items))

    def poll(self, wait: bool = False) -> None:
        """Record the answers in, keep the workers busy; with ``wait``, wait for an answer (or
        a death, or a deadline) if any file is being read."""
        if self._closed:
            raise RuntimeError("this Reading is finished")
        if not self._reader._workers:
            raise RuntimeError("this WorkbookReader is closed")
        # A caller that polls goes on working and needs a core of its own: the workers get
        # the others (on two cores, one works while the caller does; both while it waits).
        busy_at_most = None if wait else self._reader.cores_beside_caller
        try:
            self._reader._dispatch(self, busy_at_most)
            self._reader._collect(self, block=wait)
            self._reader._dispatch(self, busy_at_most)
        except BaseException:
            self.close()
            raise

    def wait(self) -> list[Result]:
        """Every file's workbook or rejection, in the order added."""
        while not self.done:
            self.poll(wait=True)
        results = [result for result in self._results if result is not None]
        assert len(results) == len(self._results)
        return results

    def take(self) -> list[tuple[int, Result]]:
        """The (index, result) of every file finished since the last ``take``."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def settle(self, index: int, result: Result) -> None:
        self._results[index] = result
        self._fresh.append((index, result))

    def close(self) -> None:
        """Finish: if files are still being read, the workers reading them are replaced."""
        if not self._closed:
            self._closed = True
            self._reader._abandon(self)


class _Worker:
    """One worker process and its socket, with the files sent to it and not yet answered."""

    def __init__(self, config: WorkerConfig, log: Path) -> None:
        ours, theirs = socket.socketpair()
        self.log = log
        with log.open("wb") as stderr:
            self.process = _spawn(theirs.fileno(), stderr)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send_bytes(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL))
        self.tasks: deque[int] = deque()
        """The files sent, in order; it answers them one by one, the first first."""
        self.ready = False
        self.broken = False
        self.deadline = 0.0
        self.time_limit = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def _did_not_start(self) -> NoReturn:
        """A worker that cannot start (duban not importable, say) must fail the reader loudly,
        not quarantine every file as a parser crash."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_STOP_SECONDS)
        raise RuntimeError(f"a workbook reader process did not start: {_last_words(self.log)}")

    def submit(
        self, indexes: list[int], files: list[tuple[bytes, Kind]], time_limit: float
    ) -> bool:
        """Send files to read (only to an idle worker, which reads the whole request at once,
        so sending never waits on a worker busy answering); False when the worker is gone."""
        request = [(kind.value, data) for data, kind in files]
        try:
            if not self.ready and self.conn.poll():
                self._receive()  # its "ready", most likely
            self.conn.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            if not self.ready:
                self._did_not_start()
            return False
        self.tasks.extend(indexes)
        self.time_limit = time_limit
        startup = 0.0 if self.ready else _STARTUP_SECONDS
        self.deadline = time.monotonic() + time_limit + startup
        return True

    def outcome(self, now: float) -> Result | None:
        """The first file's result; a rejection if the worker died or overran on it; None if
        it is still being read. Each file has the time limit from the previous one's answer."""
        try:
            while self.conn.poll():
                result = self._receive()
                if result is not None:
                    self.tasks.popleft()
                    self.deadline = time.monotonic() + self.time_limit
                    return result
        except (EOFError, OSError, pickle.UnpicklingError, ValueError, TypeError, KeyError):
            pass  # it died (mid-answer or before), or sent what no worker sends: it is done for
        else:
            if self.process.poll() is None:
                if now < self.deadline:
                    return None
                if not self.ready:
                    self._did_not_start()
                self.tasks.popleft()
                self.broken = True
                return FileRejected("parser-timeout", {"seconds": self.time_limit})
        if not self.ready:
            self._did_not_start()
        self.tasks.popleft()
        self.broken = True
        return FileRejected("parser-crashed", self._death())

    def _receive(self) -> Result | None:
        """The next message: an answer, or None for the worker's one-time "ready"."""
        message = _SafeUnpickler.loads(self.conn.recv_bytes(_MAX_ANSWER_BYTES))
        if message == ("ready",) and not self.ready:
            self.ready = True
            self.deadline = time.monotonic() + self.time_limit
            return None
        return _decode(message)

    def _death(self) -> Detail:
        """What is known of how the worker died: signal or status, and its last words."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_STOP_SECONDS)
        code = self.process.returncode
        detail: Detail = {}
        if code is not None and code < 0:
            detail["signal"] = signal.Signals(-code).name
        elif code == OUT_OF_MEMORY_EXIT:
            detail["reason"] = "MemoryError"
        elif code is not None:
            detail["exit"] = code
        message = _last_words(self.log)
        if message:
            detail["message"] = message
        return detail

    def stop(self, kill: bool = False) -> None:
        if kill:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        with contextlib.suppress(OSError):
            self.conn.close()  # the worker sees the end of its input and leaves
        try:
            self.process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.unlink(missing_ok=True)


def _cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _spawn(fd: int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """A fresh interpreter running ``worker.main`` on socket ``fd``, with this import path; it
    dies with this process (``lifetime.die_with``)."""
    return subprocess.Popen(
        [sys.executable, "-c", BOOTSTRAP, str(fd), json.dumps(sys.path), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        pass_fds=(fd,),
        close_fds=True,
    )


def _reference(parser: Parser) -> str:
    """``module:name`` of a module-level function, which a worker can import."""
    module = getattr(parser, "__module__", None)
    name = getattr(parser, "__qualname__", "")
    if not module or not name.isidentifier():
        raise ValueError("parser must be a module-level function")
    return f"{module}:{name}"


def _last_words(path: Path) -> str:
    """What a dead worker wrote to stderr: Rust's reason for aborting is its first line, a
    Python traceback's reason its last."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16_384)
    except OSError:
        return ""
    lines = [line.strip() for line in head.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:300]


def _positions(value: object) -> bool:
    """``ParsedWorkbook.uncomputed``'s shape: sheet name → list of (row, column) pairs."""
    return isinstance(value, dict) and all(
        isinstance(name, str)
        and isinstance(cells, list)
        and all(
            isinstance(cell, tuple) and len(cell) == 2 and all(type(n) is int for n in cell)
            for cell in cells
        )
        for name, cells in value.items()
    )


def _decode(message: object) -> Result:
    """A worker's answer: ("ok", kind, metadata, sheets, checked, uncomputed) or ("rejected",
    code, detail)."""
    if isinstance(message, tuple) and len(message) == 6 and message[0] == "ok":
        _, kind, metadata, sheets, checked, uncomputed = message
        if (
            isinstance(sheets, dict)
            and (metadata is None or isinstance(metadata, dict))
            and _positions(uncomputed)
        ):
            checks = prevalidate.decode(checked)
            return ParsedWorkbook(Kind(kind), metadata, sheets, checks, uncomputed)
    if isinstance(message, tuple) and len(message) == 3 and message[0] == "rejected":
        _, code, detail = message
        if isinstance(code, str) and isinstance(detail, dict):
            return FileRejected(code, detail)
    raise ValueError("malformed answer")


class _SafeUnpickler(pickle.Unpickler):
    """Plain containers and scalars, plus the three date and time classes: nothing else."""

    _ALLOWED = frozenset({"datetime", "date", "time"})

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in self._ALLOWED:
            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a worker's answer")

    @classmethod
    def loads(cls, data: bytes) -> object:
        return cls(io.BytesIO(data)).load()
