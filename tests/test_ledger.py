"""The ledger on SQLite and on the PostgreSQL of this machine, each test in its own database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from duban.clock import FixedClock
from duban.compile.gather import due_within
from duban.ledger.db import (
    current_revision,
    make_engine,
    migrate,
    relax_durability,
    session_scope,
)
from duban.ledger.schema import Base, EventRow, InstanceRow, SubmissionRow, UnitRow
from duban.ledger.store import append_event, instance_facts, register
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.status import State, state_at

CLOCK = FixedClock(datetime(2026, 2, 9, 1, 0, tzinfo=UTC))


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    engine = make_engine(ledger_url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) == "0012"
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrate_twice_is_harmless(engine: Engine) -> None:
    migrate(engine)
    assert current_revision(engine) == "0012"


def test_register_is_idempotent(engine: Engine, example_bundle: CampaignBundle) -> None:
    with session_scope(engine) as session:
        first = register(session, example_bundle, CLOCK)
    with session_scope(engine) as session:
        second = register(session, example_bundle, CLOCK)
    assert first.campaign == "created"
    assert first.counts == {"units_added": 30, "instances_added": 202}  # 32 partners' parts
    assert not second.changed
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(InstanceRow)) == 202
        kinds = session.scalars(select(EventRow.kind)).all()
    assert kinds == ["campaign.registered"]  # the second run wrote no event either


def test_roster_changes_update_deactivate_and_withdraw(engine: Engine, example_copy: Path) -> None:
    with session_scope(engine) as session:
        register(session, load_campaign(example_copy), CLOCK)
    roster = example_copy.parent / "roster.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("T09,")]
    kept = [line.replace("金城镇", "金城镇人民政府") for line in kept]
    roster.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with session_scope(engine) as session:
        report = register(session, load_campaign(example_copy), CLOCK)
    assert report.campaign == "updated"
    assert report.counts == {"units_updated": 1, "units_deactivated": 1, "instances_withdrawn": 5}
    with session_scope(engine) as session:
        t09 = session.get(UnitRow, ("nlzf-2026", "T09"))
        assert t09 is not None
        assert not t09.active
        facts = instance_facts(session, "nlzf-2026")
    assert len(facts) == 197  # 202 duties, T09's 5 withdrawn
    assert "T09" not in {f.unit_id for f in facts}


def test_the_event_log_refuses_updates_and_deletes(engine: Engine) -> None:
    with session_scope(engine) as session:
        append_event(session, CLOCK, "test.event", campaign_id=None, payload={"单位": "金城镇"})
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(update(EventRow).values(kind="tampered"))
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("DELETE FROM events"))
    with session_scope(engine) as session:
        [event] = session.scalars(select(EventRow)).all()
    assert (event.kind, event.payload) == ("test.event", {"单位": "金城镇"})
    assert event.at == CLOCK.now()  # aware UTC back from both databases


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 (the point of the test)
    with Session(engine) as session:
        session.add(EventRow(at=naive, kind="x", actor="t", payload={}))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_one_duty_per_unit_deliverable_and_period(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    with session_scope(engine) as session:
        register(session, example_bundle, CLOCK)
    duplicate = InstanceRow(
        campaign_id="nlzf-2026",
        deliverable_id="plan",
        unit_id="T01",
        period="once",
        due_date=date(2026, 3, 5),
        due_at=CLOCK.now(),
    )
    with Session(engine) as session:
        session.add(duplicate)
        with pytest.raises(IntegrityError):
            session.flush()


def test_status_facts_come_from_submissions(engine: Engine, example_bundle: CampaignBundle) -> None:
    with session_scope(engine) as session:
        register(session, example_bundle, CLOCK)
        plan = session.scalars(
            select(InstanceRow).where(
                InstanceRow.deliverable_id == "plan", InstanceRow.unit_id == "T01"
            )
        ).one()
        on_time = plan.due_at - timedelta(hours=3)
        session.add_all(
            SubmissionRow(instance_id=plan.id, version=v, sha256="0" * 64, received_at=at,
                          on_time=True, row_count=3)
            for v, at in ((1, on_time), (2, on_time + timedelta(days=2)))
        )  # fmt: skip
    with session_scope(engine) as session:
        facts = {(f.deliverable_id, f.unit_id): f for f in instance_facts(session, "nlzf-2026")}
    t01 = facts[("plan", "T01")]
    zone = example_bundle.campaign.zone
    assert sorted(t01.accepted_at) == [on_time, on_time + timedelta(days=2)]
    assert state_at(t01, plan.due_at + timedelta(days=3), zone) is State.ON_TIME
    assert state_at(facts[("plan", "T02")], plan.due_at, zone) is State.OVERDUE


def test_the_periods_due_in_the_last_day_are_what_a_daily_compile_reports(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    with session_scope(engine) as session:
        register(session, example_bundle, CLOCK)
        plan_due = session.scalars(
            select(InstanceRow.due_at).where(InstanceRow.deliverable_id == "plan")
        ).first()
        assert plan_due is not None
        day = timedelta(days=1)
        at_deadline = due_within(session, example_bundle, plan_due, day)
        a_day_later = due_within(session, example_bundle, plan_due + day, day)
        just_before = due_within(session, example_bundle, plan_due - timedelta(seconds=1), day)

    assert at_deadline == [("plan", "once")]
    assert a_day_later == []  # reported the day before: not again
    assert ("plan", "once") not in just_before


def test_a_sqlite_commit_is_on_disk_before_the_next_step(tmp_path: Path) -> None:
    """The mailbox move and the send after a commit assume it survives a power cut: WAL with
    synchronous=FULL (2), never NORMAL (1), on every connection of the pool."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_relaxed_transaction_commits_without_waiting_and_the_next_waits_again(
    engine: Engine,
) -> None:
    """``relax_durability`` (intake's pieces): that transaction commits at NORMAL on SQLite,
    with synchronous_commit off on PostgreSQL; the next transaction, on the same connection
    or another, is back to FULL (on). On SQLite a transaction already begun keeps FULL."""
    sqlite = engine.dialect.name == "sqlite"
    setting = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    relaxed, full = (1, 2) if sqlite else ("off", "on")
    with session_scope(engine) as session:
        relax_durability(session)
        append_event(session, CLOCK, "test.relaxed", campaign_id=None)
        assert session.execute(text(setting)).scalar() == relaxed
        session.commit()
        assert session.execute(text(setting)).scalar() == full
        append_event(session, CLOCK, "test.begun", campaign_id=None)
        relax_durability(session)  # too late on SQLite: the transaction has written
        assert session.execute(text(setting)).scalar() == (full if sqlite else relaxed)
    with engine.connect() as other:
        assert other.exec_driver_sql(setting).scalar() == full
    with session_scope(engine) as session:
        kinds = session.scalars(select(EventRow.kind).order_by(EventRow.id)).all()
    assert kinds == ["test.relaxed", "test.begun"]
