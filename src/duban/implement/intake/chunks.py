"""``IN (…)`` lists cut small enough for any database's limit on bound parameters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

_T = TypeVar("_T")
IN_CHUNK = 500
"""Values per ``IN (…)``: far below SQLite's and PostgreSQL's limits on bound parameters."""


def chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """Pieces small enough for any database's limit on bound parameters."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]
