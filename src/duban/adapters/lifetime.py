"""Worker processes that end with the process that started them (intake's readers, the
forked builders of messages)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

ORPHANED_EXIT = 87
"""Exit status of a worker that found its parent gone before it could ask to die with it."""

_PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """End this worker when ``parent`` dies, however it dies.

    An intake worker waiting for files leaves when its socket closes, but one inside a parser
    does not look at the socket until the file is read, and a hostile file can keep it reading
    for minutes: killed with ``kill -9``, the intake process would leave it running, orphaned.
    A forked builder of messages (``sending.ahead``) waits on a queue whose other end it holds
    itself, so it would never see its parent go.

    On Linux the kernel sends this process SIGKILL when its parent dies (``PR_SET_PDEATHSIG``;
    nothing to run in the worker, so even a parser that holds the GIL or loops in native code
    dies). The parent may have died before the request, so the worker then checks that it is
    still the parent's child: an orphan is adopted by another process, never by the dead one.
    The signal follows the parent *thread* that started the worker, so a ``WorkbookReader``
    must not outlive the thread that opened it (duban opens and uses each in one thread), and
    the builders are forked only by a process with one thread.

    Elsewhere (or if the request fails) a daemon thread checks every second whether the parent
    is gone, and ends the worker: it can only run between Python instructions, so a parser
    stuck in native code that holds the GIL outlives the parent until it lets go.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL)) == 0:
            if os.getppid() != parent:
                os._exit(ORPHANED_EXIT)
            return
    threading.Thread(target=_watch, args=(parent,), name="duban-parent", daemon=True).start()


def _watch(parent: int) -> None:
    """``die_with``'s fallback: leave once the parent is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(ORPHANED_EXIT)
