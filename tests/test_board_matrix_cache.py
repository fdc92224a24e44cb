"""The board's status matrix is built once and shared (``Board.matrix``).

A reader waits for a new one when the board itself wrote (an action), when the clock moved
far or back, and whenever a build is quick (a small campaign is always shown as the ledger
is). When builds are slow (10,000 units: seconds, bench/board.py) and another process wrote or
the minute turned, readers get the matrix there is while one thread builds the next: a collect
run recording a reply every second would otherwise keep every reader waiting. Slow builds are
simulated here by ``WAIT_FOR_BUILDS_UNDER = 0``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.board import context
from duban.board.context import Board
from duban.clock import FixedClock
from duban.implement.duties import exempt
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow
from duban.ledger.store import register
from duban.model.loader import load_campaign
from duban.model.matrix import Cell, Matrix
from duban.settings import load_settings

from .conftest import EXAMPLE

CAMPAIGN = "nlzf-2026"


@pytest.fixture
def board(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Board]:
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path))
    monkeypatch.setenv("DUBAN_DATABASE_URL", ledger_url)
    monkeypatch.setenv("DUBAN_SECRET", "a test secret, long enough for HMAC")
    monkeypatch.setenv("DUBAN_NOW", "2026-03-12T09:00+08:00")
    settings = load_settings()
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, load_campaign(EXAMPLE), settings.clock())
    engine.dispose()
    opened = Board.open(settings, [EXAMPLE])
    yield opened
    opened.engine.dispose()


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every build counts as slow, as at 10,000 units."""
    monkeypatch.setattr(context, "WAIT_FOR_BUILDS_UNDER", 0.0)


def clock_of(board: Board) -> FixedClock:
    assert isinstance(board.clock, FixedClock)
    return board.clock


def matrix_of(board: Board) -> Matrix:
    with board.session() as session:
        return board.matrix(session, CAMPAIGN)


def built_anew(board: Board, old: Matrix) -> Matrix:
    """The matrix once the thread building it is done (within 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = matrix_of(board)
        if current is not old:
            return current
        time.sleep(0.02)
    raise AssertionError("no new matrix was built")


def exempt_t01(session: Session, board: Board) -> None:
    duty = session.scalars(
        select(InstanceRow).where(
            InstanceRow.campaign_id == CAMPAIGN,
            InstanceRow.deliverable_id == "plan",
            InstanceRow.unit_id == "T01",
        )
    ).one()
    exempt(session, duty, reason="合并报送", actor="test", clock=board.clock)


def exempt_elsewhere(board: Board) -> None:
    """T01's plan exempted by another process (its own engine), as the CLI would."""
    engine = make_engine(board.settings.ledger_url)
    with session_scope(engine) as session:
        exempt_t01(session, board)
    engine.dispose()


def t01_plan(matrix: Matrix) -> Cell | None:
    line = next(line for line in matrix.lines if line.unit_id == "T01")
    return line.cells[next(i for i, c in enumerate(matrix.columns) if c.deliverable == "plan")]


@pytest.mark.usefixtures("slow")
def test_the_boards_own_write_is_on_the_next_page(board: Board) -> None:
    first = matrix_of(board)
    assert matrix_of(board) is first
    with board.session() as session:
        exempt_t01(session, board)
    changed = matrix_of(board)
    assert changed is not first
    assert t01_plan(changed) is Cell.EXEMPT


@pytest.mark.usefixtures("slow")
def test_another_writer_is_shown_once_built_beside_the_readers(board: Board) -> None:
    first = matrix_of(board)
    assert t01_plan(first) is Cell.MISSING
    exempt_elsewhere(board)
    assert matrix_of(board) is first  # not waited for
    assert t01_plan(built_anew(board, first)) is Cell.EXEMPT


def test_when_builds_are_quick_another_writer_is_waited_for(board: Board) -> None:
    first = matrix_of(board)
    exempt_elsewhere(board)
    changed = matrix_of(board)
    assert changed is not first
    assert t01_plan(changed) is Cell.EXEMPT


@pytest.mark.usefixtures("slow")
def test_a_minute_later_the_matrix_there_is_shows_while_the_next_is_built(board: Board) -> None:
    first = matrix_of(board)
    clock_of(board).advance(timedelta(minutes=1))
    assert matrix_of(board) is first
    second = built_anew(board, first)
    assert second.as_of == board.now()
    assert matrix_of(board) is second


@pytest.mark.usefixtures("slow")
def test_a_clock_moved_far_or_back_is_waited_for(board: Board) -> None:
    first = matrix_of(board)
    clock_of(board).advance(timedelta(days=30))
    later = matrix_of(board)
    assert later is not first
    assert later.as_of == board.now()
    clock_of(board).advance(timedelta(days=-30))
    back = matrix_of(board)
    assert back.as_of == first.as_of
    assert back is not later
