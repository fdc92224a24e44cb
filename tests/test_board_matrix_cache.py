"""The board's status matrix is built once and shared (``Board.matrix``): again at once when
the ledger changes or the clock moved far or back; when the clock moved a minute or two, the
matrix there is shows while one thread builds the next (at 10,000 units a build takes
seconds, which every reader would otherwise wait for once a minute: bench/board.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

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
def board(ledger_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Board]:
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
        time.sleep(0.05)
    raise AssertionError("no new matrix was built")


def test_readers_share_one_matrix_until_the_ledger_changes(board: Board) -> None:
    first = matrix_of(board)
    assert matrix_of(board) is first
    with board.session() as session:
        duty = session.scalars(
            select(InstanceRow).where(
                InstanceRow.campaign_id == CAMPAIGN,
                InstanceRow.deliverable_id == "plan",
                InstanceRow.unit_id == "T01",
            )
        ).one()
        exempt(session, duty, reason="合并报送", actor="test", clock=board.clock)
    changed = matrix_of(board)
    assert changed is not first
    line = next(line for line in changed.lines if line.unit_id == "T01")
    plan = next(i for i, c in enumerate(changed.columns) if c.deliverable == "plan")
    assert line.cells[plan] is Cell.EXEMPT


def test_a_minute_later_the_matrix_there_is_shows_while_the_next_is_built(board: Board) -> None:
    first = matrix_of(board)
    clock_of(board).advance(timedelta(minutes=1))
    assert matrix_of(board) is first  # not waited for
    second = built_anew(board, first)
    assert second.as_of == board.now()
    assert matrix_of(board) is second


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
