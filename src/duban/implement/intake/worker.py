"""The worker process's side of ``reader``: confine itself, then check and parse one file at
a time.

Started as ``python -c BOOTSTRAP FD PATHS PARENT`` rather than through ``multiprocessing``, whose
``spawn`` re-runs the parent's main script in every child: a script or flow without an
``if __name__ == "__main__"`` guard would start workers without end. The first message on the
socket is the configuration; each later one is a list of files, each answered in turn with
plain values. A worker dies with the process that started it (``lifetime.die_with``).

With ``check_first`` the worker runs ``precheck`` on each file before its parser sees it, under
the same memory cap and time limit: a hostile file that defeats the pre-check itself costs a
worker, not the intake process, and the pre-check runs on both cores beside the parsing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import resource
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from duban.adapters.lifetime import die_with
from duban.implement.intake.limits import Limits
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.precheck import precheck
from duban.implement.intake.prevalidate import FormsByDeliverable, encode
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import Kind, refusal

OUT_OF_MEMORY_EXIT = 86
"""Exit status of a worker that ran out of memory in Python (MemoryError)."""

BOOTSTRAP = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[2]); "
    "from duban.implement.intake.worker import main; main(int(sys.argv[1]), int(sys.argv[3]))"
)
"""The ``-c`` program of a worker: the parent's import path first, then ``main`` with the socket
and the parent's process id."""


@dataclass(frozen=True)
class WorkerConfig:
    memory_limit: int | None
    limits: Limits
    parser: str
    """``module:function`` of the parser, imported in the worker."""
    check_first: bool = True
    """Run ``precheck`` on each file before the parser."""
    forms: FormsByDeliverable | None = None
    """Validate each parsed workbook against the form its metadata names (``prevalidate``)."""


def main(fd: int, parent: int) -> None:
    """A worker's life: tie itself to ``parent``, read the configuration, confine, answer until
    the socket closes."""
    die_with(parent)
    conn = Connection(fd)
    config: WorkerConfig = pickle.loads(conn.recv_bytes())
    parser = _import(config.parser)
    _confine(config.memory_limit)
    conn.send_bytes(pickle.dumps(("ready",)))
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        files: list[tuple[str, bytes]] = pickle.loads(request)
        del request
        files.reverse()
        while files:  # one answer per file, in order; each file dropped once answered
            kind_value, data = files.pop()
            _clear_stderr()
            answer = _answer(parser, data, Kind(kind_value), config)
            del data
            try:
                conn.send_bytes(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
            except MemoryError:
                os._exit(OUT_OF_MEMORY_EXIT)
            except (OSError, ValueError):
                return


def _answer(parser: Any, data: bytes, kind: Kind, config: WorkerConfig) -> tuple[Any, ...]:
    """("ok", kind, metadata, sheets, checked, uncomputed) or ("rejected", code, detail):
    nothing but plain values (``checked`` is ``prevalidate.encode``'s).

    The pre-check (when asked for) runs first, so no parser sees a file it refuses."""
    try:
        if config.check_first:
            precheck(data, kind, config.limits)
        refused = refusal(kind)
        if refused is not None:
            raise refused
        parsed: ParsedWorkbook = parser(data, kind, config.limits)
        forms = config.forms
        checked = (
            None
            if forms is None
            else forms.check(parsed.metadata, parsed.sheets, parsed.uncomputed)
        )
    except FileRejected as rejection:
        return ("rejected", rejection.code, rejection.detail)
    except MemoryError:
        os._exit(OUT_OF_MEMORY_EXIT)  # the heap may be in any state: leave at once
    except Exception as exc:  # whatever a parser (or the pre-check) raises is this file's fault
        return ("rejected", "unreadable", {"reason": f"{type(exc).__name__}: {exc}"[:300]})
    ok = (parsed.kind.value, parsed.metadata, parsed.sheets, encode(checked), parsed.uncomputed)
    return ("ok", *ok)


def _import(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def _confine(memory_limit: int | None) -> None:
    """Ignore Ctrl-C (the intake process decides when to stop), write no core dump (an abort
    would otherwise leave gigabytes on disk), and cap the address space."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_limit is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _clear_stderr() -> None:
    """Empty the stderr file, so after a crash it holds only what this file caused."""
    with contextlib.suppress(OSError):
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
