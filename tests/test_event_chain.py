"""The hash chain over each campaign's event log (issue 19, point 2): built as events are
appended, built for the events of a ledger being upgraded, linear with two writers at once on
SQLite and PostgreSQL, and broken where an event was changed behind duban's back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from duban.clock import FixedClock
from duban.ledger.chain import GENESIS, live_breaks
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventLinkRow, EventRow
from duban.ledger.store import append_event, append_events, new_event

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


def links(url: str, chain: str) -> list[tuple[int, int, str, str]]:
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(EventLinkRow.seq, EventLinkRow.event_id, EventLinkRow.prev_sha256,
                   EventLinkRow.sha256).where(EventLinkRow.chain == chain)
            .order_by(EventLinkRow.seq)
        ).all()  # fmt: skip
    engine.dispose()
    return [tuple(r) for r in rows]


def test_each_event_links_to_the_one_before_per_campaign(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        for n in range(3):
            append_event(session, CLOCK, "test.a", campaign_id="a", payload={"n": n})
            append_event(session, CLOCK, "test.b", campaign_id="b", payload={"n": n})
    with session_scope(engine) as session:
        append_event(session, CLOCK, "test.a", campaign_id="a", payload={"n": (1, 2)})
        assert live_breaks(session, "a") == []
        assert live_breaks(session, "b") == []
    engine.dispose()
    chain = links(ledger_url, "a")
    assert [seq for seq, *_ in chain] == [1, 2, 3, 4]
    assert chain[0][2] == GENESIS
    assert all(chain[i][2] == chain[i - 1][3] for i in range(1, 4))
    assert len(links(ledger_url, "b")) == 3


def test_events_appended_together_link_in_order_after_those_before(ledger_url: str) -> None:
    """``append_events`` (a wave of intake records): one flush for the lot, each event
    linked to the one before it in its own campaign's chain, in the order given."""
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        append_event(session, CLOCK, "test.a", campaign_id="e", payload={"n": 0})
        wave = [new_event(CLOCK, "test.w", campaign_id=c, payload={"n": n})
                for n, c in enumerate("effef", start=1)]  # fmt: skip
        append_events(session, wave)
        append_events(session, [])
        append_event(session, CLOCK, "test.a", campaign_id="e", payload={"n": 6})
    with session_scope(engine) as session:
        assert live_breaks(session, "e") == []
        assert live_breaks(session, "f") == []
        by_seq = session.execute(
            select(EventRow.campaign_id, EventRow.payload).join(
                EventLinkRow, EventLinkRow.event_id == EventRow.id
            ).order_by(EventLinkRow.chain, EventLinkRow.seq)
        ).all()  # fmt: skip
    engine.dispose()
    assert [(c, p["n"]) for c, p in by_seq] == [("e", 0), ("e", 1), ("e", 4), ("e", 6),
                                                 ("f", 2), ("f", 3), ("f", 5)]  # fmt: skip


def test_a_session_that_committed_reads_the_head_again(ledger_url: str) -> None:
    """The head a transaction read is its own: after its commit, another writer may move it."""
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as first:
        append_event(first, CLOCK, "test.one", campaign_id="d")
        first.commit()
        with session_scope(engine) as other:
            append_event(other, CLOCK, "test.other", campaign_id="d")
        append_event(first, CLOCK, "test.one", campaign_id="d")
    with session_scope(engine) as session:
        assert live_breaks(session, "d") == []
    engine.dispose()
    assert [seq for seq, *_ in links(ledger_url, "d")] == [1, 2, 3]


@pytest.mark.parametrize("writers", [2])
def test_two_writers_at_once_make_one_line(ledger_url: str, writers: int) -> None:
    """Each writer appends events in many short transactions, all at once: the chain is one
    line, no link twice, nothing forked or refused."""
    engine = make_engine(ledger_url)
    migrate(engine)
    engine.dispose()
    each, errors = 25, []
    start = threading.Barrier(writers)

    def write(who: int) -> None:
        mine = make_engine(ledger_url)
        try:
            start.wait()
            for n in range(each):
                with session_scope(mine) as session:
                    append_event(session, CLOCK, "test.write", campaign_id="c",
                                 actor=f"w{who}", payload={"n": n})  # fmt: skip
        except Exception as error:  # reported below, with the chain
            errors.append(error)
        finally:
            mine.dispose()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = links(ledger_url, "c")
    assert [seq for seq, *_ in chain] == list(range(1, writers * each + 1))
    engine = make_engine(ledger_url)
    with session_scope(engine) as session:
        assert live_breaks(session, "c") == []
        actors = session.scalars(select(EventRow.actor).distinct()).all()
    engine.dispose()
    assert sorted(actors) == [f"w{w}" for w in range(writers)]


def chained(tmp_path: Path, events: int) -> tuple[str, Engine]:
    """A SQLite ledger with ``events`` events of campaign x, each linked."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        for n in range(events):
            append_event(session, CLOCK, "test.x", campaign_id="x", payload={"n": n})
    return url, engine


def test_an_event_changed_behind_dubans_back_breaks_the_chain_there(tmp_path) -> None:
    """Someone with the database's keys drops the append-only trigger and edits an event."""
    url, engine = chained(tmp_path, 4)
    second = links(url, "x")[1][1]
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER events_no_update")
        connection.execute(text("UPDATE events SET actor = 'someone' WHERE id = :id"),
                           {"id": second})  # fmt: skip
    with session_scope(engine) as session:
        breaks = live_breaks(session, "x")
    engine.dispose()
    assert [(b.where, b.message) for b in breaks] == [
        (f"event {second}", "changed after it was recorded (its hash differs)")
    ]


def test_a_deleted_event_and_an_unlinked_one_are_named(tmp_path) -> None:
    url, engine = chained(tmp_path, 3)
    first = links(url, "x")[0][1]
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER events_no_delete")
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.execute(text("DELETE FROM events WHERE id = :id"), {"id": first})
        connection.execute(text("INSERT INTO events (at, campaign_id, kind, actor, payload) "
                                "VALUES ('2026-03-01 01:00:00', 'x', 'test.slipped', 'x', "
                                "'{}')"))  # fmt: skip
    with session_scope(engine) as session:
        said = [(b.where, b.message) for b in live_breaks(session, "x")]
        slipped = session.scalar(select(func.max(EventRow.id)))
    engine.dispose()
    assert (f"event {first}", "linked but missing") in said
    assert (f"event {slipped}", "not in the chain") in said


def test_upgrading_a_ledger_links_the_events_it_has(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    migrate(engine, "0011")
    with engine.begin() as connection:
        for n, campaign in enumerate(["p", "q", "p", None, "p"]):
            connection.execute(
                text("INSERT INTO events (at, campaign_id, kind, actor, payload) "
                     "VALUES (:at, :c, 'old.event', 'before', :payload)"),
                {"at": datetime(2026, 1, 1, n, tzinfo=UTC), "c": campaign,
                 "payload": f'{{"n": {n}, "name": "第{n}件"}}'},
            )  # fmt: skip
    migrate(engine)
    with session_scope(engine) as session:
        assert live_breaks(session, "p") == []
        append_event(session, CLOCK, "new.event", campaign_id="p")
    with session_scope(engine) as session:
        assert live_breaks(session, "p") == []
        with pytest.raises(Exception, match="append-only"):
            session.execute(text("UPDATE event_links SET seq = 9"))
    engine.dispose()
    assert [seq for seq, *_ in links(ledger_url, "p")] == [1, 2, 3, 4]
    assert len(links(ledger_url, "q")) == 1
    assert len(links(ledger_url, "")) == 1
