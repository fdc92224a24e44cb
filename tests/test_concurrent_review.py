"""Two coordinators deciding the same held item at once (the board's two browsers, or the board
and ``duban review`` in a terminal): the item is decided once, one submission and one event,
and the second is told it was already decided. On SQLite and PostgreSQL, the two decisions
started together from two threads, each with its own connection, after a barrier, so their
transactions overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from duban.clock import FixedClock
from duban.errors import DubanError
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.review import accept_held, dismiss, held_items
from duban.ledger.db import session_scope
from duban.ledger.schema import EventRow, IntakeFileRow, SubmissionRow

from . import test_review
from .rounds import rounds
from .test_collect import LATE, SECRET, VALID, World

imap = test_review.imap
world = test_review.world


def at_once(world: World, decide: Callable[[Any, Intake], str], count: int = 2) -> list[str]:
    """``decide`` run by ``count`` threads at once, each in its own session; what each said
    (a result, or the error it raised)."""
    barrier = threading.Barrier(count)
    said: list[str] = []

    def one() -> None:
        try:
            with (
                WorkbookReader(workers=1) as reader,
                session_scope(world.engine) as session,
            ):
                intake = Intake(world.bundle, RawStore(world.store), reader, SECRET,
                                FixedClock(LATE))  # fmt: skip
                barrier.wait(timeout=30)
                said.append(decide(session, intake))
        except DubanError as error:
            said.append(f"refused: {error}")
        except Exception as error:  # the test reports what a thread hit
            said.append(f"failed: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return said


def held_file(world: World) -> int:
    world.reply("T06", VALID, sender="stranger@evil.example")
    world.collect()
    with session_scope(world.engine) as session:
        [held] = held_items(session, world.bundle)
    assert held.file_id is not None
    return held.file_id


def decisions(world: World, file_id: int) -> list[str]:
    with session_scope(world.engine) as session:
        return list(session.scalars(select(EventRow.kind).where(
            EventRow.subject == f"intake-file/{file_id}")))  # fmt: skip


@pytest.mark.stress
@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_accepts_of_one_held_file_at_once_record_it_once(world: World, round_: int) -> None:
    file_id = held_file(world)
    said = at_once(world, lambda session, intake: accept_held(
        session, intake, file_id, "王主任").outcome.value)  # fmt: skip
    assert said == ["accepted", "accepted"], said  # the second: already accepted, no error
    with session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(SubmissionRow).where(
            SubmissionRow.intake_file_id == file_id)) == 1  # fmt: skip
        assert session.get_one(IntakeFileRow, file_id).outcome == "accepted"
    assert decisions(world, file_id) == ["review.accepted"]


@pytest.mark.stress
@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_an_accept_and_a_dismissal_at_once_decide_the_file_once(world: World, round_: int) -> None:
    file_id = held_file(world)
    deciders: Iterator[Callable[[Any, Intake], object]] = iter([
        lambda s, i: accept_held(s, i, file_id, "王主任").outcome.value,
        lambda s, i: dismiss(s, world.bundle, i.clock, f"F{file_id}", "李科长", "重复").outcome,
    ])  # fmt: skip
    lock = threading.Lock()

    def decide(session: Any, intake: Intake) -> str:
        with lock:
            chosen = next(deciders)
        return str(chosen(session, intake))

    said = at_once(world, decide)
    assert not any(s.startswith("failed") for s in said), said
    assert len(decisions(world, file_id)) == 1, said
    with session_scope(world.engine) as session:
        outcome = session.get_one(IntakeFileRow, file_id).outcome
        submitted = session.scalar(select(func.count()).select_from(SubmissionRow).where(
            SubmissionRow.intake_file_id == file_id))  # fmt: skip
    assert (outcome, submitted) in {("accepted", 1), ("dismissed", 0)}, said
