"""Reading workbooks in worker processes that a hostile file may kill without harm.

calamine is fast but, given a forged size, aborts the whole process (a Rust allocation failure
is not an exception), and a file can make any parser run for minutes. So every file is parsed in
a worker process with its address space capped (``RLIMIT_AS``) and a time limit per file; a
worker that dies or overruns is replaced, its file gets ``parser-crashed`` or
``parser-timeout``, and the batch goes on. A worker is a fresh interpreter (``worker.py``), so
its memory cap is not eaten by whatever the intake process had mapped.

Answers come back as plain values decoded by an unpickler that knows only the date and time
classes, so even a worker subverted by a file cannot make the intake process run code.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
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
from typing import IO, Any

from .limits import Limits
from .parse import ParsedWorkbook, parse_workbook
from .precheck import precheck
from .reasons import Detail, FileRejected
from .sniff import WORKBOOK_KINDS, Kind
from .worker import BOOTSTRAP, OUT_OF_MEMORY_EXIT, WorkerConfig

Parser = Callable[[bytes, Kind, Limits], ParsedWorkbook]
"""What a worker runs on each file: a module-level function, imported by the worker."""

Result = ParsedWorkbook | FileRejected

GiB = 1024**3
_MAX_ANSWER_BYTES = 512 * 1024 * 1024
_STOP_SECONDS = 2.0
_STARTUP_SECONDS = 60.0
"""Allowed on top of the time limit for a worker that has not said it is ready: the limit is
for reading a file, not for starting an interpreter on a busy machine."""


class WorkbookReader:
    """A small pool of worker processes reading workbooks; use it as a context manager, from
    one thread at a time.

    ``check_first`` runs ``precheck`` in this process just before a file goes to a worker, so
    it overlaps with the other workers' parsing; turn it off only for files already checked.
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
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if time_limit <= 0:
            raise ValueError("time_limit must be positive")
        self.time_limit = time_limit
        self.limits = limits
        self.check_first = check_first
        self._config = WorkerConfig(memory_limit, limits, _reference(parser))
        self._folder = tempfile.TemporaryDirectory(prefix="duban-reader-")
        self._started = 0
        self._workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self._workers.append(self._start_worker())
            for worker in self._workers:
                worker.wait_ready(_STARTUP_SECONDS)
        except BaseException:
            self.close()
            raise

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
        if not self._workers:
            raise RuntimeError("this WorkbookReader is closed")
        batch = list(items)
        results: list[Result | None] = [None] * len(batch)
        queue = deque(range(len(batch)))
        try:
            while queue or any(worker.task is not None for worker in self._workers):
                self._dispatch(batch, queue, results)
                self._collect(results)
        except BaseException:
            # Interrupted (Ctrl-C, a bug): a worker still busy would answer the next batch
            # with this one's file, so it goes.
            for slot, worker in enumerate(self._workers):
                if worker.task is not None:
                    self._replace(slot)
            raise
        assert all(result is not None for result in results)
        return [result for result in results if result is not None]

    def _dispatch(
        self, batch: list[tuple[bytes, Kind]], queue: deque[int], results: list[Result | None]
    ) -> None:
        """Give every idle worker a file, settling on the way the files refused up front."""
        for slot in range(len(self._workers)):
            while queue and self._workers[slot].task is None:
                index = queue.popleft()
                data, kind = batch[index]
                refusal = self._refusal(data, kind)
                if refusal is not None:
                    results[index] = refusal
                elif not self._submit(slot, index, kind, data):
                    results[index] = FileRejected("parser-crashed", {"reason": "no worker"})

    def _submit(self, slot: int, index: int, kind: Kind, data: bytes) -> bool:
        """Send a file; a worker that died between files (not this file's fault) is replaced
        and the file sent to the fresh one."""
        if self._workers[slot].submit(index, kind, data, self.time_limit):
            return True
        return self._replace(slot).submit(index, kind, data, self.time_limit)

    def _refusal(self, data: bytes, kind: Kind) -> FileRejected | None:
        if self.check_first:
            try:
                precheck(data, kind, self.limits)
            except FileRejected as rejection:
                return rejection
        if kind is Kind.ENCRYPTED:
            return FileRejected("encrypted")
        if kind not in WORKBOOK_KINDS:
            return FileRejected("not-a-workbook", {"kind": kind.value})
        return None

    def _collect(self, results: list[Result | None]) -> None:
        """Wait for the first answer, death or deadline among busy workers; record them all."""
        busy = [worker for worker in self._workers if worker.task is not None]
        if not busy:
            return
        timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
        wait([worker.conn for worker in busy], timeout)
        now = time.monotonic()
        for slot, worker in enumerate(self._workers):
            index = worker.task
            if index is None:
                continue
            outcome = worker.outcome(now)
            if outcome is None:
                continue
            results[index] = outcome
            if worker.broken:
                self._replace(slot)

    def _start_worker(self) -> _Worker:
        self._started += 1
        log = Path(self._folder.name) / f"worker-{self._started}.log"
        return _Worker(self._config, log)

    def _replace(self, slot: int) -> _Worker:
        self._workers[slot].stop(kill=True)
        self._workers[slot] = self._start_worker()
        return self._workers[slot]


class _Worker:
    """One worker process and its socket, with the file it is reading, if any."""

    def __init__(self, config: WorkerConfig, log: Path) -> None:
        ours, theirs = socket.socketpair()
        self.log = log
        with log.open("wb") as stderr:
            self.process = _spawn(theirs.fileno(), stderr)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send_bytes(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL))
        self.task: int | None = None
        self.ready = False
        self.broken = False
        self.deadline = 0.0
        self.time_limit = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float) -> None:
        """Wait for the worker's "ready": a worker that cannot start (duban not importable,
        say) must fail the reader loudly, not quarantine every file as a parser crash."""
        try:
            if self.conn.poll(timeout) and self._receive() is None:
                return
        except (EOFError, OSError, pickle.UnpicklingError, ValueError):
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_STOP_SECONDS)
        raise RuntimeError(f"a workbook reader process did not start: {_last_words(self.log)}")

    def submit(self, index: int, kind: Kind, data: bytes, time_limit: float) -> bool:
        """Send a file to read; False when the worker is gone."""
        try:
            if not self.ready and self.conn.poll():
                self._receive()  # its "ready", most likely
            self.conn.send_bytes(pickle.dumps((kind.value, data), protocol=pickle.HIGHEST_PROTOCOL))
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return False
        self.task = index
        self.time_limit = time_limit
        startup = 0.0 if self.ready else _STARTUP_SECONDS
        self.deadline = time.monotonic() + time_limit + startup
        return True

    def outcome(self, now: float) -> Result | None:
        """The file's result; a rejection if the worker died or overran; None if still busy."""
        try:
            while self.conn.poll():
                result = self._receive()
                if result is not None:
                    self.task = None
                    return result
        except (EOFError, OSError, pickle.UnpicklingError, ValueError, TypeError, KeyError):
            pass  # it died (mid-answer or before), or sent what no worker sends: it is done for
        else:
            if self.process.poll() is None:
                if now < self.deadline:
                    return None
                self.task, self.broken = None, True
                return FileRejected("parser-timeout", {"seconds": self.time_limit})
        self.task, self.broken = None, True
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


def _spawn(fd: int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    """A fresh interpreter running ``worker.main`` on socket ``fd``, with this import path."""
    return subprocess.Popen(
        [sys.executable, "-c", BOOTSTRAP, str(fd), json.dumps(sys.path)],
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


def _decode(message: object) -> Result:
    """A worker's answer: ("ok", kind, metadata, sheets) or ("rejected", code, detail)."""
    if isinstance(message, tuple) and len(message) == 4 and message[0] == "ok":
        _, kind, metadata, sheets = message
        if isinstance(sheets, dict) and (metadata is None or isinstance(metadata, dict)):
            return ParsedWorkbook(kind=Kind(kind), metadata=metadata, sheets=sheets)
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
