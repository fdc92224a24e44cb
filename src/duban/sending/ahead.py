"""Messages built ahead, in forked processes, while this process sends (issue 20).

Composing a notice (its workbook personalised and read back), building its MIME tree and
serialising it took longer than sending it did: at 1,000 notices about 10 s of a 19 s
``mobilize``, all of it on one core while the other waited for the SMTP server's replies.
``Ahead`` hands a group's claimed drafts to worker processes, which compose, build and
serialise them (``Wire``: the envelope and the exact bytes) while this process sends the ones
before, so the two cores share the work and the ledger's bookkeeping stays where it was.

Workers are *forked*: a draft's ``compose`` is a closure over what the caller loaded (the
campaign, a master workbook, a unit's open items), which no other start method could send
them; forked, they have it already, and get only an index and a Message-ID. Forking is safe
only in a process with one thread (a lock another thread held would stay locked in the child
for ever), so ``Ahead`` forks only then, for an SMTP connection and enough drafts to be worth
two processes; otherwise, and whenever a worker fails to build a message (the error is met
again, and reported, when this process builds it itself) or dies, messages are built here as
before. Workers ignore Ctrl-C (the sending process stops, and stops them) and die with the
sending process however it dies (``lifetime.die_with``): killed, it leaves no builder behind.

The first claimed draft is composed here before forking, so what the drafts share and make
lazily (a deliverable's master workbook) is made once and inherited, not once a worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from email.message import EmailMessage
from typing import TYPE_CHECKING

from duban.adapters.forked import can_fork
from duban.adapters.lifetime import die_with
from duban.adapters.mail.mailer import Mailer, SmtpMailer, Wire, prepare
from duban.adapters.mail.message import build

if TYPE_CHECKING:
    from duban.sending.dispatch import Draft

WORTH_FORKING = 20
"""Fewer drafts than this are built here: two forks cost more than they save."""
NICENESS = 10
"""Workers build at a lower priority than the sending process and the mail server it waits
on: those are the run's pace; a worker only has to stay a group ahead. Measured at 2,000
notices, two pairs of runs: the ratio to the mailer alone 0.78 -> 0.80 and 0.68 -> 0.69, the
cores kept busy 1.50 -> 1.61 and 1.52 -> 1.60 (small, but in every pair)."""
_DRAFTS: Sequence[Draft] = ()
"""The drafts of the dispatch that forked the workers: what a worker builds from."""

Built = EmailMessage | Wire


def workers_for(drafts: Sequence[Draft], mailer: Mailer) -> int:
    """How many worker processes to fork for ``drafts``: none when it is not safe (another
    thread runs, no ``fork``), not worth it, or the mailer sends no ``Wire``."""
    if not isinstance(mailer, SmtpMailer) or len(drafts) < WORTH_FORKING or not can_fork():
        return 0
    return min(os.cpu_count() or 1, 4)


class Ahead:
    """Build a dispatch's messages: ``start`` a group's (index, Message-ID) pairs, then
    ``take`` each in turn, a ``Wire`` from a worker or an ``EmailMessage`` built here."""

    def __init__(self, drafts: Sequence[Draft], mailer: Mailer) -> None:
        self._drafts = drafts
        self._workers = workers_for(drafts, mailer)
        self._pool: ProcessPoolExecutor | None = None
        self._started: dict[int, Future[Wire | None]] = {}

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _DRAFTS  # the workers are gone: what they built from is let go
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            _DRAFTS = ()

    def start(self, jobs: Sequence[tuple[int, str]]) -> None:
        """Hand these drafts to the workers (forked at the first call worth it)."""
        if not self._workers:
            return
        pool = self._pool or self._fork(jobs)
        if pool is None:
            return
        try:
            for index, message_id in jobs:
                if index not in self._started:
                    self._started[index] = pool.submit(_wire, index, message_id)
        except BrokenProcessPool:  # a worker died: this and the rest are built here
            self._workers = 0

    def take(self, index: int, message_id: str) -> Built:
        """Draft ``index``'s message: the worker's, or built here (which raises what building
        it raises)."""
        started = self._started.pop(index, None)
        if started is not None:
            try:
                wire = started.result()
            except Exception:  # a worker died (BrokenProcessPool): the rest are built here
                self._workers = 0
                wire = None
            if wire is not None:
                return wire
        return build(self._drafts[index].compose(message_id))

    def _fork(self, jobs: Sequence[tuple[int, str]]) -> ProcessPoolExecutor | None:
        global _DRAFTS  # what the forked workers read: set before forking
        if len(jobs) < 2:  # nothing to build beside the first
            return None
        first, message_id = jobs[0]
        self._drafts[first].compose(message_id)  # makes what the drafts share, inherited
        _DRAFTS = self._drafts
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            self._workers, mp_context=context, initializer=_worker, initargs=(os.getpid(),)
        )
        return self._pool


def _worker(parent: int) -> None:
    """A worker ignores Ctrl-C (its parent stops it) and dies with its parent, however that
    dies: it waits on a queue whose other end it holds itself, and would never see it go."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)
    os.nice(NICENESS)


def _wire(index: int, message_id: str) -> Wire | None:
    """In a worker: draft ``index``'s message as sent, or None when building it fails (the
    parent builds it again and meets the error itself)."""
    try:
        return prepare(build(_DRAFTS[index].compose(message_id)))
    except Exception:
        return None
