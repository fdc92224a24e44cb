"""The status matrix: every unit against every deliverable period, one state per cell.

The board's main page. It is ``duban status --units`` turned on its side: the same instance
facts and the same ``state_at``, with two states the board adds because a coordinator acts on
them: *held* (a reply waits for review, so the unit is not simply missing) and *pending* (not
yet due, due soon, due today). Filtering, sorting and paging are pure functions over the matrix
built once, so a page of 100 rows out of 10,000 units costs a slice, not a query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from itertools import chain
from math import ceil
from threading import Lock
from typing import Any
from zoneinfo import ZoneInfo

from duban.model.status import InstanceFacts, State, due_day, state_at


class Cell(StrEnum):
    """What a coloured cell says, in the order the legend lists them."""

    ON_TIME = "on-time"
    LATE = "late"
    MISSING = "missing"
    REJECTED = "rejected"
    HELD = "held"
    EXTENDED = "extended"
    EXEMPT = "exempt"
    DUE_TODAY = "due-today"
    PENDING = "pending"


_CELL_OF = {
    State.ON_TIME: Cell.ON_TIME,
    State.LATE: Cell.LATE,
    State.OVERDUE: Cell.MISSING,
    State.REJECTED: Cell.REJECTED,
    State.EXEMPTED: Cell.EXEMPT,
    State.EXTENDED: Cell.EXTENDED,
    State.DUE_TODAY: Cell.DUE_TODAY,
    State.DUE_SOON: Cell.PENDING,
    State.NOT_YET_DUE: Cell.PENDING,
}
_NOT_RECEIVED = frozenset({State.OVERDUE, State.REJECTED, State.DUE_TODAY, State.DUE_SOON,
                           State.NOT_YET_DUE, State.EXTENDED})  # fmt: skip
_TROUBLE = frozenset({Cell.MISSING, Cell.LATE, Cell.REJECTED, Cell.HELD})


def cell_of(state: State, held: bool) -> Cell:
    """A reply held for review outranks "missing" or "rejected": the unit did answer."""
    if held and state in _NOT_RECEIVED:
        return Cell.HELD
    return _CELL_OF[state]


@dataclass(frozen=True)
class Column:
    deliverable: str
    period: str
    due: date


@dataclass(frozen=True)
class UnitLine:
    """One unit's row: its cells in the matrix's column order (None where it owes nothing)."""

    unit_id: str
    name: str
    tags: tuple[str, ...]
    cells: tuple[Cell | None, ...]

    @cached_property
    def trouble(self) -> int:
        """Cells a coordinator must act on (missing, late, rejected, held): the default sort.
        Counted once a line: the board's readers sort the same lines again and again."""
        return sum(cell in _TROUBLE for cell in self.cells)

    @cached_property
    def haystack(self) -> tuple[str, str]:
        """The id and name as a search compares them (case-folded), folded once a line."""
        return self.unit_id.casefold(), self.name.casefold()


class Sort(StrEnum):
    UNIT = "unit"
    NAME = "name"
    TROUBLE = "trouble"


@dataclass(frozen=True)
class MatrixQuery:
    """What the coordinator asked for: every field optional, the whole matrix by default."""

    search: str = ""
    tag: str | None = None
    state: Cell | None = None
    deliverable: str | None = None
    sort: Sort = Sort.UNIT
    descending: bool = False
    page: int = 1
    per_page: int = 100


@dataclass(frozen=True)
class Page:
    columns: tuple[Column, ...]
    rows: tuple[UnitLine, ...]
    total: int
    page: int
    pages: int
    counts: dict[Cell, int] = field(default_factory=dict)


SELECTIONS_KEPT = 32
"""Selections a matrix remembers (``Matrix.view``): a reader paging through a filter, or twenty
readers on the usual filters, cost a slice, not a pass over every unit."""


@dataclass(frozen=True)
class Matrix:
    as_of: datetime
    columns: tuple[Column, ...]
    lines: tuple[UnitLine, ...]
    _selections: dict[tuple[object, ...], tuple[list[UnitLine], dict[Cell, int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _selections_lock: Lock = field(default_factory=Lock, init=False, repr=False, compare=False)

    @cached_property
    def tags(self) -> list[str]:
        """Every tag of the roster, for the filter's list on every page: gathered once."""
        return sorted({tag for line in self.lines for tag in line.tags})

    @property
    def deliverables(self) -> list[str]:
        return list(dict.fromkeys(column.deliverable for column in self.columns))

    def select(self, query: MatrixQuery) -> list[UnitLine]:
        """Every line the query keeps, sorted, cut down to the asked deliverable's columns."""
        keep = [i for i, c in enumerate(self.columns)
                if query.deliverable is None or c.deliverable == query.deliverable]  # fmt: skip
        lines = (_narrowed(line, keep) for line in self.lines)
        matches = _matcher(query)
        chosen = [line for line in lines if matches(line)]
        # most trouble first whatever ``descending`` says, ties by id
        backwards = query.descending and query.sort is not Sort.TROUBLE
        chosen.sort(key=_sort_key(query.sort), reverse=backwards)
        return chosen

    def view(self, query: MatrixQuery) -> Page:
        chosen, counts = self._selected(query)
        wanted = query.deliverable
        columns = tuple(c for c in self.columns if wanted is None or c.deliverable == wanted)
        per_page = max(1, query.per_page)
        pages = max(1, ceil(len(chosen) / per_page))
        page = min(max(1, query.page), pages)
        shown = chosen[(page - 1) * per_page : page * per_page]
        return Page(columns, tuple(shown), len(chosen), page, pages, dict(counts))

    def _selected(self, query: MatrixQuery) -> tuple[list[UnitLine], dict[Cell, int]]:
        """The query's lines and their cells' counts, remembered by everything but the page
        (the matrix never changes: the board builds a new one when the ledger does)."""
        key = (query.search.strip().casefold(), query.tag or None, query.state,
               query.deliverable, query.sort, query.descending)  # fmt: skip
        with self._selections_lock:
            found = self._selections.pop(key, None)
            if found is not None:
                self._selections[key] = found  # the most recently used goes last
                return found
        chosen = self.select(query)
        counted = Counter(chain.from_iterable(line.cells for line in chosen))
        counts: dict[Cell, int] = {cell: n for cell, n in counted.items() if cell is not None}
        with self._selections_lock:
            self._selections[key] = (chosen, counts)
            while len(self._selections) > SELECTIONS_KEPT:
                del self._selections[next(iter(self._selections))]
        return chosen, counts


def _narrowed(line: UnitLine, keep: Sequence[int]) -> UnitLine:
    if len(keep) == len(line.cells):
        return line
    return UnitLine(line.unit_id, line.name, line.tags, tuple(line.cells[i] for i in keep))


def _matcher(query: MatrixQuery) -> Callable[[UnitLine], bool]:
    """The query's filters as one test, its search folded once rather than once a line."""
    tag, state, needle = query.tag, query.state, query.search.strip().casefold()

    def matches(line: UnitLine) -> bool:
        if tag and tag not in line.tags:
            return False
        if state is not None and state not in line.cells:
            return False
        if not needle:
            return True
        unit_id, name = line.haystack
        return needle in unit_id or needle in name

    return matches


def _sort_key(sort: Sort) -> Callable[[UnitLine], Any]:
    if sort is Sort.NAME:
        return lambda line: (line.name, line.unit_id)
    if sort is Sort.TROUBLE:
        return lambda line: (-line.trouble, line.unit_id)
    return lambda line: line.unit_id


@dataclass(frozen=True)
class UnitInfo:
    unit_id: str
    name: str
    tags: tuple[str, ...]


def build_matrix(
    facts: Iterable[InstanceFacts],
    units: Iterable[UnitInfo],
    held: frozenset[int],
    as_of: datetime,
    zone: ZoneInfo,
) -> Matrix:
    """The matrix of every unit (the roster's order by id) and every deliverable period (in
    due order); ``held`` are the instance ids with a reply waiting for review."""
    facts = list(facts)
    first_due: dict[tuple[str, str], datetime] = {}
    for f in facts:  # a period's column sits at its earliest due time (partners report first)
        key = (f.deliverable_id, f.period)
        first_due[key] = min(f.due_at, first_due.get(key, f.due_at))
    keys = sorted(first_due, key=lambda k: (first_due[k], k))
    index = {key: i for i, key in enumerate(keys)}
    columns = tuple(Column(d, p, due_day(first_due[(d, p)], zone)) for d, p in keys)
    cells: dict[str, list[Cell | None]] = {}
    for f in facts:
        row = cells.setdefault(f.unit_id, [None] * len(columns))
        state = state_at(f, as_of, zone)
        row[index[(f.deliverable_id, f.period)]] = cell_of(state, f.instance_id in held)
    lines = tuple(
        UnitLine(u.unit_id, u.name, u.tags, tuple(cells.get(u.unit_id, [None] * len(columns))))
        for u in sorted(units, key=lambda u: u.unit_id)
    )
    return Matrix(as_of, columns, lines)
