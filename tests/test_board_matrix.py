"""The status matrix's pure logic (model.matrix): cell states, filters, sort and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from duban.model.matrix import Cell, Matrix, MatrixQuery, Sort, UnitInfo, build_matrix, cell_of
from duban.model.status import InstanceFacts, State

ZONE = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # the end of 5 March in Shanghai
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def facts(
    unit: str,
    deliverable: str = "plan",
    period: str = "once",
    *,
    due: datetime = DUE,
    iid: int | None = None,
    accepted: tuple[datetime, ...] = (),
    exempt: bool = False,
) -> InstanceFacts:
    return InstanceFacts(deliverable, unit, period, due, exempt=exempt, accepted_at=accepted,
                         instance_id=iid)  # fmt: skip


def test_a_held_reply_outranks_missing_and_rejected_but_not_an_accepted_one() -> None:
    assert cell_of(State.OVERDUE, held=True) is Cell.HELD
    assert cell_of(State.REJECTED, held=True) is Cell.HELD
    assert cell_of(State.OVERDUE, held=False) is Cell.MISSING
    assert cell_of(State.ON_TIME, held=True) is Cell.ON_TIME
    assert cell_of(State.DUE_SOON, held=False) is Cell.PENDING


def small() -> Matrix:
    rows = [
        facts("A", accepted=(DUE - timedelta(days=1),)),
        facts("B", accepted=(DUE + timedelta(days=1),)),
        facts("C", iid=7),
        facts("D", exempt=True),
        facts("A", "progress", "2026-Q1", due=DUE + timedelta(days=30)),
        facts("C", "progress", "2026-Q1", due=DUE + timedelta(days=30)),
    ]
    units = [UnitInfo("C", "丙镇", ("镇区",)), UnitInfo("A", "甲局", ("市级机关",)),
             UnitInfo("B", "乙局", ("市级机关",)), UnitInfo("D", "丁镇", ("镇区",))]  # fmt: skip
    return build_matrix(rows, units, frozenset({7}), NOW, ZONE)


def test_columns_are_in_due_order_and_units_in_id_order() -> None:
    matrix = small()
    assert [(c.deliverable, c.period) for c in matrix.columns] == [
        ("plan", "once"), ("progress", "2026-Q1")]  # fmt: skip
    lines = matrix.lines
    assert [line.unit_id for line in lines] == ["A", "B", "C", "D"]
    assert [line.cells for line in lines] == [
        (Cell.ON_TIME, Cell.PENDING), (Cell.LATE, None), (Cell.HELD, Cell.PENDING),
        (Cell.EXEMPT, None)]  # fmt: skip


def test_filters_sort_and_pages() -> None:
    matrix = small()
    view = matrix.view
    assert [r.unit_id for r in view(MatrixQuery(tag="镇区")).rows] == ["C", "D"]
    assert [r.unit_id for r in view(MatrixQuery(state=Cell.LATE)).rows] == ["B"]
    assert [r.unit_id for r in view(MatrixQuery(search="丙")).rows] == ["C"]
    assert [r.unit_id for r in view(MatrixQuery(search="b")).rows] == ["B"]  # ids, any case
    trouble = view(MatrixQuery(sort=Sort.TROUBLE)).rows
    assert [r.unit_id for r in trouble] == ["B", "C", "A", "D"]  # one each, then by id
    narrowed = view(MatrixQuery(deliverable="progress"))
    assert [c.deliverable for c in narrowed.columns] == ["progress"]
    assert narrowed.rows[1].cells == (None,)
    paged = view(MatrixQuery(per_page=3, page=9))
    assert (paged.page, paged.pages, [r.unit_id for r in paged.rows]) == (2, 2, ["D"])
    assert view(MatrixQuery()).counts[Cell.PENDING] == 2
