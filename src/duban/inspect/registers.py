"""The registers a draw reads, as canonical bytes whose SHA-256 is each register's hash.

Canonical so that anyone can rebuild the bytes from the published registers and get the same
hash: UTF-8, one line per row, each line a JSON array of the fields in a fixed order (JSON
without spaces, non-ASCII written as is), the rows sorted as text (code point order, which is
the order of their UTF-8 bytes), after a first line naming the fields. A set inside a row (an
inspector's tags and conflicts) is a sorted array.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from duban.model.inspectors import Inspector

UNIT_FIELDS = ("unit_id", "stratum", "weight")
INSPECTOR_FIELDS = ("id", "name", "unit_id", "tags", "conflicts")
PREVIOUS_FIELDS = ("unit_id", "inspector_id")

Assignment = tuple[str, str]
"""A unit id and the id of an inspector on its team."""


@dataclass(frozen=True)
class Candidate:
    """A unit that may be drawn: its stratum (a roster tag, say) and its weight (>0), which
    counts only in a weighted draw."""

    unit_id: str
    stratum: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"unit {self.unit_id}: weight must be > 0, not {self.weight}")


def compact_json(value: object) -> str:
    """JSON without spaces and with non-ASCII as is: the one spelling every hash is taken of."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unit_register(candidates: Iterable[Candidate]) -> bytes:
    rows = [[c.unit_id, c.stratum, float(c.weight)] for c in candidates]
    return _lines(UNIT_FIELDS, rows, "unit")


def inspector_register(inspectors: Iterable[Inspector]) -> bytes:
    rows = [[i.id, i.name, i.unit_id, sorted(i.tags), sorted(i.conflicts)] for i in inspectors]
    return _lines(INSPECTOR_FIELDS, rows, "inspector")


def previous_register(previous: Iterable[Assignment]) -> bytes:
    """The previous round's assignments (unit, inspector), each once."""
    return _lines(PREVIOUS_FIELDS, [list(pair) for pair in set(previous)], None)


def _lines(fields: Sequence[str], rows: Sequence[Sequence[object]], what: str | None) -> bytes:
    if what is not None:
        twice = sorted(str(i) for i, n in Counter(row[0] for row in rows).items() if n > 1)
        if twice:
            raise ValueError(f"{what} ids appear more than once: {', '.join(twice)}")
    lines = sorted(compact_json(row) for row in rows)
    return "".join(line + "\n" for line in [compact_json(list(fields)), *lines]).encode()
