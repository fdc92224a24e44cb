"""Progress on a terminal: a bar when the total is known, a running count when it is not.

Drawn on stderr and cleared when done, so what the command prints stays what it was; nothing
at all when stderr is not a terminal (cron, a pipe, a log file), where a bar is only noise.

Drawn by the command's own thread, on each step it reports (``auto_refresh=False``), never by
a refresh thread of rich's: a dispatch forks its builders only from a process with one thread
(``sending.ahead``), so a bar that ran a thread of its own made a coordinator's ``mobilize``
at a terminal build every notice in one process, at the speed of a cron job's without the
bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from duban.sending.batching import Progress as Tell


@contextmanager
def shown(label: str) -> Iterator[Tell | None]:
    """A ``progress(done, total)`` to hand a use case, or ``None`` when not on a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(label, total=None)
        bar.refresh()

        def tell(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        yield tell


@contextmanager
def working(label: str) -> Iterator[None]:
    """The label of a step that cannot count its way (compiling, one chase round), shown while
    it runs and cleared after; still, as a spinner would need a thread to turn."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with Live(Text(f"… {label}"), console=console, transient=True, auto_refresh=False) as live:
        live.refresh()
        yield
