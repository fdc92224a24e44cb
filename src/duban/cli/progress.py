"""Progress on a terminal: a bar when the total is known, a running count when it is not.

Drawn on stderr and cleared when done, so what the command prints stays what it was; nothing
at all when stderr is not a terminal (cron, a pipe, a log file), where a bar is only noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from duban.sending.batching import Progress as Tell


@contextmanager
def shown(label: str) -> Iterator[Tell | None]:
    """A ``progress(done, total)`` to hand a use case, or ``None`` when not on a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def tell(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield tell


@contextmanager
def working(label: str) -> Iterator[None]:
    """A spinner for a step that cannot count its way (compiling, one chase round)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(label):
        yield
