"""Work done in a forked process while this one goes on (collect's answers, issue 20).

``collect`` answered each batch of replies after reading it, and its two readers sat idle while
the answers were drafted, built and sent; at 1,000 replies the answers were a third of the
command. ``later(work)`` forks a child that does ``work`` and hands back what it returned (or
raised), while this process reads the next batch; ``result()`` waits for it.

Forked, not started afresh, for the reason ``sending.ahead`` forks: the work is a closure over
what this process loaded (the campaign, the answers' drafts), which no other start method could
send. And forked only where that is safe, from a process with one thread (a lock another thread
held would stay locked in the child); elsewhere (a Prefect task, one core) ``later`` does the
work at once, here, and ``result()`` hands it back the same way.

The child dies with this process however it dies (``lifetime.die_with``); it leaves with
``os._exit``, so nothing this process set up (a mailbox's connection, the readers' sockets, the
ledger's pooled connections) is closed or flushed by the child on its way out. What it returns
or raises comes back pickled; an error that cannot be comes back as its type and message.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from duban.adapters.lifetime import die_with
from duban.errors import DubanError

T = TypeVar("T")


class ForkedWorkError(DubanError):
    """The forked work failed in a way that could not be sent back as it was, or its process
    died before it could say (killed, out of memory): said like any error of duban's, with
    what to do (what the work did not finish is in the ledger, owed, for the next run)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            reason,
            hint="run the command again: what this run did not finish is taken up from the ledger",
            zh=f"后台进程未完成工作（{reason}）",
            zh_hint="请再运行一次该命令：本次未完成的部分会从台账中接着完成",
        )


def can_fork() -> bool:
    """Whether forking is safe and worth it here: one thread, ``fork`` available, two cores."""
    return (
        threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) >= 2
    )


class Later(Generic[T]):
    """``work`` done in a forked child, or at once where forking is not safe."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._pid: int | None = None
        self._outcome: tuple[str, Any] | None = None
        if not can_fork():
            self._outcome = _outcome(work)
            return
        reading, writing = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(work, parent, reading, writing)
        os.close(writing)
        self._pid, self._reading = pid, reading

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def result(self) -> T:
        """Wait for the work; what it returned, or raise what it raised."""
        if self._outcome is None:
            self._outcome = self._wait()
        kind, value = self._outcome
        if kind == "returned":
            return value  # type: ignore[no-any-return]
        if kind == "raised":
            raise value
        raise ForkedWorkError(value)

    def _wait(self) -> tuple[str, Any]:
        """Read the child's answer, then reap it; reaped even when interrupted (Ctrl-C reaches
        the child too, which gives its claims back before it leaves)."""
        chunks = []
        try:
            while chunk := os.read(self._reading, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._reading)
            _, status = os.waitpid(self._pid or 0, 0)
        with contextlib.suppress(Exception):  # nothing, or less than was written: it died
            return pickle.loads(b"".join(chunks))  # type: ignore[no-any-return]
        return ("failed", f"the forked process ended without an answer ({_status(status)})")


def later(work: Callable[[], T]) -> Later[T]:
    """Start ``work`` (see the module docstring)."""
    return Later(work)


def _child(work: Callable[[], Any], parent: int, reading: int, writing: int) -> None:
    """The child's life: do the work, write its outcome, leave without cleaning up."""
    try:
        os.close(reading)
        die_with(parent)
        outcome = _outcome(work)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C now would cut the answer short
        data = _pickled(outcome)
        view = memoryview(data)
        while view:
            view = view[os.write(writing, view) :]
    finally:
        os._exit(0)


def _outcome(work: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("returned", work())
    except BaseException as error:  # sent back to be raised there; KeyboardInterrupt too
        return ("raised", error)


def _pickled(outcome: tuple[str, Any]) -> bytes:
    """The outcome pickled, or its error's type and message where it cannot be (or cannot be
    read back: an exception whose ``__init__`` wants other arguments than its ``args``)."""
    with contextlib.suppress(Exception):
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
        return data
    kind, value = outcome
    text = f"{type(value).__name__}: {value}" if kind == "raised" else "an unpicklable result"
    return pickle.dumps(("failed", text))


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"killed by {signal.Signals(number).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
