"""The status matrix's filters, sorts, pages and counts (``model.matrix``), against a plain
reference written here, for many drawn queries over a drawn matrix: the board remembers
selections and counts each line's trouble once, and must show what a plain pass would."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from math import ceil

from duban.model.matrix import Cell, Column, Matrix, MatrixQuery, Sort, UnitLine

TAGS = ("镇区", "市级机关", "街道", "窗口")
NAMES = ("金城镇", "儒林镇", "发改委", "教育局", "JinCheng Office", "第12单位")


def drawn_matrix(rng: random.Random, units: int = 300) -> Matrix:
    columns = tuple(
        Column(deliverable, f"2026-{month:02d}", date(2026, month, 10))
        for deliverable in ("monthly", "plan")
        for month in range(1, 7 if deliverable == "monthly" else 2)
    )
    cells = [*Cell, None]
    lines = tuple(
        UnitLine(f"U{n:04d}", f"{rng.choice(NAMES)}{n}", tuple(rng.sample(TAGS, rng.randint(0, 2))),
                 tuple(rng.choice(cells) for _ in columns))
        for n in range(units)
    )  # fmt: skip
    return Matrix(datetime(2026, 6, 1, tzinfo=UTC), columns, lines)


def reference(matrix: Matrix, query: MatrixQuery) -> tuple[list[str], int, int, dict[Cell, int]]:
    """The page's unit ids, the total, the page shown and the counts, the plain way."""
    keep = [i for i, c in enumerate(matrix.columns)
            if query.deliverable is None or c.deliverable == query.deliverable]  # fmt: skip
    needle = query.search.strip().casefold()
    chosen = []
    for line in matrix.lines:
        cells = [line.cells[i] for i in keep]
        if query.tag and query.tag not in line.tags:
            continue
        if query.state is not None and query.state not in cells:
            continue
        if needle and needle not in line.unit_id.casefold() and needle not in line.name.casefold():
            continue
        trouble = sum(c in (Cell.MISSING, Cell.LATE, Cell.REJECTED, Cell.HELD) for c in cells)
        chosen.append((line, cells, trouble))
    if query.sort is Sort.NAME:
        chosen.sort(key=lambda x: (x[0].name, x[0].unit_id), reverse=query.descending)
    elif query.sort is Sort.TROUBLE:  # most trouble first, ties by id, whatever descending says
        chosen.sort(key=lambda x: (-x[2], x[0].unit_id))
    else:
        chosen.sort(key=lambda x: x[0].unit_id, reverse=query.descending)
    counts: dict[Cell, int] = {}
    for _, cells, _ in chosen:
        for cell in cells:
            if cell is not None:
                counts[cell] = counts.get(cell, 0) + 1
    pages = max(1, ceil(len(chosen) / query.per_page))
    page = min(max(1, query.page), pages)
    shown = chosen[(page - 1) * query.per_page : page * query.per_page]
    return [line.unit_id for line, _, _ in shown], len(chosen), page, counts


def drawn_query(rng: random.Random) -> MatrixQuery:
    return MatrixQuery(
        search=rng.choice(["", "", "镇", "u00", " JINCHENG ", "第12", "nobody"]),
        tag=rng.choice([None, None, *TAGS]),
        state=rng.choice([None, None, *Cell]),
        deliverable=rng.choice([None, None, "monthly", "plan"]),
        sort=rng.choice(list(Sort)),
        descending=rng.random() < 0.3,
        page=rng.randint(1, 6),
        per_page=rng.choice([10, 25, 100]),
    )


def test_every_drawn_query_shows_what_a_plain_pass_shows() -> None:
    rng = random.Random(18)
    matrix = drawn_matrix(rng)
    queries = [drawn_query(rng) for _ in range(400)]
    for query in queries + queries:  # the second time from the remembered selections
        page = matrix.view(query)
        ids, total, number, counts = reference(matrix, query)
        assert [line.unit_id for line in page.rows] == ids, query
        assert (page.total, page.page, page.counts) == (total, number, counts), query
        assert page.pages == max(1, ceil(total / query.per_page)), query
        wanted = query.deliverable
        assert all(len(line.cells) == len(page.columns) for line in page.rows)
        assert all(wanted is None or c.deliverable == wanted for c in page.columns)


def test_a_matrix_stays_equal_and_hashable_whatever_it_remembers() -> None:
    rng = random.Random(5)
    first, second = drawn_matrix(rng, 20), drawn_matrix(random.Random(5), 20)
    first.view(MatrixQuery(state=Cell.LATE))
    assert first == second
    assert hash(first) == hash(second)
