"""An item as it stood at an earlier moment, rebuilt from its events (``selfcheck.history``),
against what the live moves wrote at each step."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.store import register
from duban.model.loader import CampaignBundle
from duban.selfcheck.history import MOVABLE, items_as_of, rebuilt
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import Entry, apply_move, create_items, get_item, history
from duban.selfcheck.states import Action, Move

from .test_rectification import CAMPAIGN, JULY, ZONE, new

MOVES = [
    Move(Action.PROGRESS, "B03", role="unit", note="已部署"),
    Move(Action.CLAIM, "B03", role="unit", evidence="已印发制度", files=("raw/ab12",),
         completed_on=date(2026, 7, 2)),
    Move(Action.RETURN, "王明", reason="佐证材料不全"),
    Move(Action.CLAIM, "B03", role="unit", note="补齐", evidence="补充会议记录"),
    Move(Action.CLOSE, "王明", reviewer="李华"),
]  # fmt: skip


Steps = list[tuple[datetime, Item]]


@pytest.fixture
def moved(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[tuple[Engine, Steps]]:
    """One item created, then each move a day later; the instants and the item the live code
    wrote at each."""
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    yield engine, moved_step_by_step(engine)
    engine.dispose()


def moved_step_by_step(engine: Engine) -> Steps:
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        [made] = create_items(session, clock, CAMPAIGN, [new()], actor="collect")
    steps = [(clock.now(), made.item)]
    for move in MOVES:
        clock.advance(timedelta(days=1))
        with session_scope(engine) as session:
            done = apply_move(session, clock, CAMPAIGN, made.item.code, move, zone=ZONE)
        steps.append((clock.now(), done.item))
    return steps


def test_the_item_as_it_stood_after_each_move_is_what_the_move_wrote(
    moved: tuple[Engine, Steps],
) -> None:
    engine, steps = moved
    with session_scope(engine) as session:
        then = [t.item for at, _ in steps
                for t in items_as_of(session, CAMPAIGN, at + timedelta(hours=1))]  # fmt: skip
    assert [i.state for _, i in steps] == [
        "open", "in_progress", "claimed", "in_progress", "claimed", "closed"
    ]  # fmt: skip
    for (_, live), again in zip(steps, then, strict=True):
        assert {n: getattr(again, n) for n in MOVABLE} == {n: getattr(live, n) for n in MOVABLE}
    assert then[3].last_reason == "佐证材料不全"
    assert then[3].claimed_at is not None
    assert then[5].closed_by == "王明"
    assert then[5].progress == "补齐"


def test_before_it_was_recorded_there_is_no_item(moved: tuple[Engine, Steps]) -> None:
    engine, _ = moved
    with session_scope(engine) as session:
        assert items_as_of(session, CAMPAIGN, JULY - timedelta(seconds=1)) == []
        [now] = items_as_of(session, CAMPAIGN, JULY + timedelta(days=30))
    assert now.unknown == frozenset()
    assert not now.moved_since


def logged(moved: tuple[Engine, Steps]) -> tuple[Item, list[Entry]]:
    """The item as it stands now and its events."""
    engine, steps = moved
    with session_scope(engine) as session:
        item = get_item(session, CAMPAIGN, steps[0][1].code)
        return item, history(session, CAMPAIGN, item.code)


def test_a_payload_lacking_what_a_move_needs_leaves_that_column_unknown(
    moved: tuple[Engine, Steps],
) -> None:
    """A return without its reason, then a claim without its state: not guessed."""
    steps, (item, trail) = moved[1], logged(moved)
    returned = steps[3][0]
    trail[3] = replace(trail[3], payload={k: v for k, v in trail[3].payload.items()
                                          if k != "reason"})  # fmt: skip
    trail[4] = replace(trail[4], payload={k: v for k, v in trail[4].payload.items() if k != "to"})
    at_return = rebuilt(item, trail, returned)
    assert at_return.unknown >= {"last_reason"}
    assert at_return.moved_since
    assert "state" not in at_return.unknown
    at_claim = rebuilt(item, trail, steps[4][0])
    assert {"state", "last_reason"} <= at_claim.unknown
    assert "state" not in rebuilt(item, trail, steps[5][0]).unknown  # the close records it


def test_a_row_its_events_do_not_give_is_unknown_where_they_differ(
    moved: tuple[Engine, Steps],
) -> None:
    steps, (item, trail) = moved[1], logged(moved)
    edited = replace(item, closed_by="张三")
    assert rebuilt(edited, trail, steps[1][0]).unknown == {"closed_by"}
    assert rebuilt(item, trail, steps[1][0]).unknown == frozenset()
