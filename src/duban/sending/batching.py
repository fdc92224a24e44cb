"""Units go to Prefect in batches: a task run costs about 25 ms against a server and 10,000
task runs overflow its event queue, so one task handles a few hundred units."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


Progress = Callable[[int, int | None], None]
"""Told after each batch how many items are done and, when it is known, how many in all (the
command line draws a bar with it; flows pass nothing and publish artifacts instead)."""


def in_batches(
    items: Sequence[T], size: int, step: Callable[[list[T]], list[R]], progress: Progress | None
) -> list[R]:
    """Every item through ``step`` a batch at a time, telling ``progress`` after each batch."""
    results: list[R] = []
    for batch in batches(items, size):
        results.extend(step(list(batch)))
        if progress is not None:
            progress(min(len(results), len(items)), len(items))
    return results


TICK = 50
"""Items between two tellings of a progress bar sent one by one: drawing it is not free."""


def ticking(progress: Progress | None, total: int) -> Callable[[Any], None] | None:
    """An ``after_each`` for one long run of items: tells ``progress`` every ``TICK`` items
    and at the last one."""
    if progress is None:
        return None
    done = 0

    def tick(_: Any) -> None:
        nonlocal done
        done += 1
        if done % TICK == 0 or done == total:
            progress(done, total)

    return tick
