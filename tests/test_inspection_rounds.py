"""A round of inspection in the ledger (issue 16, item 2): commit, draw with one seed, approve,
recuse, verify; on SQLite and PostgreSQL. The draw's arithmetic is tested in
test_inspect_draw.py; here, what the ledger keeps and refuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, update

from duban.clock import FixedClock
from duban.inspect.drawing import (
    RoundError,
    RoundRequest,
    approve_round,
    commit_round,
    draw_round,
    recuse_inspector,
    verify_round,
)
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import (
    EventRow,
    InspectionAssignmentRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
)
from duban.ledger.store import register
from duban.model.loader import CampaignBundle

JUNE = FixedClock(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
SEPTEMBER = FixedClock(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
QUARTERLY = RoundRequest("quarterly")


@pytest.fixture
def engine(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Engine]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, JUNE)
    yield engine
    engine.dispose()


def drawn(engine: Engine, bundle: CampaignBundle, seed: str = "20260601") -> None:
    with session_scope(engine) as session:
        draw_round(session, bundle, QUARTERLY, seed, JUNE)


def test_a_draw_picks_per_stratum_and_teams_outside_their_own_unit(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    with session_scope(engine) as session:
        done = draw_round(session, example_bundle, QUARTERLY, "20260601", JUNE)
    assert done.label == "2026-Q2"
    assert [(p.stratum, p.k, p.size) for p in done.result.picks] == [
        ("市级机关", 4, 20),
        ("镇区", 4, 10),
    ]
    own = {i.id: i.unit_id for i in example_bundle.inspectors}
    for team in done.result.teams:
        assert len(team.inspectors) == 2
        assert all(own[i] != team.unit_id for i in team.inspectors)
    with session_scope(engine) as session:
        kinds = session.scalars(select(EventRow.kind).order_by(EventRow.id)).all()
    assert kinds[-2:] == ["inspection.committed", "inspection.drawn"]


def test_one_seed_per_commitment_and_a_redraw_needs_a_reason(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    drawn(engine, example_bundle)
    with session_scope(engine) as session:
        again = draw_round(session, example_bundle, QUARTERLY, "20260601", JUNE)
    assert again.already
    with session_scope(engine) as session, pytest.raises(RoundError) as refused:
        draw_round(session, example_bundle, QUARTERLY, "99999", JUNE)
    assert "one seed per commitment" in refused.value.message
    with session_scope(engine) as session, pytest.raises(RoundError) as no_reason:
        commit_round(session, example_bundle, QUARTERLY, JUNE)
    assert no_reason.value.hint is not None
    assert "--reason" in no_reason.value.hint
    recommit = RoundRequest("quarterly", reason="名录更新后重抽")
    with session_scope(engine) as session:
        second = commit_round(session, example_bundle, recommit, JUNE)
        redrawn = draw_round(session, example_bundle, QUARTERLY, "99999", JUNE)
    assert second.attempt == 2
    assert redrawn.result.commitment.attempt == 2
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(InspectionDrawRow)) == 2
        reasons = session.scalars(select(InspectionCommitmentRow.reason)).all()
    assert sorted(r or "" for r in reasons) == ["", "名录更新后重抽"]


def test_approve_writes_the_teams_and_the_next_round_avoids_them(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    drawn(engine, example_bundle)
    with session_scope(engine) as session:
        approve_round(session, example_bundle, "quarterly", None, JUNE)
        first = {
            (row.unit_id, i)
            for row in session.scalars(select(InspectionAssignmentRow))
            for i in row.inspectors
        }
    assert len(first) == 8 * 2
    with session_scope(engine) as session:
        later = draw_round(session, example_bundle, QUARTERLY, "20260901", SEPTEMBER)
    assert later.label == "2026-Q3"
    assert later.result.commitment.previous != later.result.commitment.units
    pairs = {(t.unit_id, i) for t in later.result.teams for i in t.inspectors}
    assert not pairs & first
    with session_scope(engine) as session, pytest.raises(RoundError):
        commit_round(session, example_bundle, RoundRequest("quarterly", "2026-Q2", reason="x"),
                     JUNE)  # fmt: skip


def test_a_recusal_moves_one_assignment(engine: Engine, example_bundle: CampaignBundle) -> None:
    drawn(engine, example_bundle)
    with session_scope(engine) as session:
        approve_round(session, example_bundle, "quarterly", None, JUNE)
        teams = {r.unit_id: list(r.inspectors) for r in session.scalars(
            select(InspectionAssignmentRow))}  # fmt: skip
    unit, members = sorted(teams.items())[0]
    with session_scope(engine) as session:
        changed = recuse_inspector(
            session, example_bundle, "quarterly", None, unit, members[0],
            note="近亲属在该单位任职", clock=JUNE,
        )  # fmt: skip
    with session_scope(engine) as session:
        after = {r.unit_id: list(r.inspectors) for r in session.scalars(
            select(InspectionAssignmentRow))}  # fmt: skip
    moved = [(u, teams[u], after[u]) for u in teams if teams[u] != after[u]]
    assert len(moved) == 1
    assert moved[0][0] == unit
    assert moved[0][2][1] == members[1]
    assert members[0] not in moved[0][2]
    assert [(r.unit_id, r.inspector_id, r.reason) for r in changed.recusals if r.note] == [
        (unit, members[0], "declared")
    ]
    with session_scope(engine) as session:
        assert verify_round(session, example_bundle, "quarterly", None).matches


def test_verify_detects_a_changed_register_row_seed_or_result(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    drawn(engine, example_bundle)
    with session_scope(engine) as session:
        assert verify_round(session, example_bundle, "quarterly", None).matches
        row = session.scalars(select(InspectionCommitmentRow)).one()
        original = row.unit_register
        row.unit_register = original.replace('["T03","镇区",1.0]', '["T03","市级机关",1.0]')
        assert row.unit_register != original
    with session_scope(engine) as session:
        verdict = verify_round(session, example_bundle, "quarterly", None)
        assert "commitment" in verdict.parts()
        assert any("单位名录" in line for line in verdict.said("zh-CN"))
        session.execute(update(InspectionCommitmentRow).values(unit_register=original))
        session.execute(update(InspectionDrawRow).values(seed="20260602"))
    with session_scope(engine) as session:
        assert "seed" in verify_round(session, example_bundle, "quarterly", None).parts()
        session.execute(update(InspectionDrawRow).values(seed="20260601"))
        assert verify_round(session, example_bundle, "quarterly", None).matches


def test_a_rewritten_record_is_caught_by_the_event_log(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    drawn(engine, example_bundle)
    with session_scope(engine) as session:
        other = draw_round(session, example_bundle, RoundRequest("quarterly", "spare"), "x", JUNE)
    with session_scope(engine) as session:
        row = session.scalars(
            select(InspectionDrawRow).order_by(InspectionDrawRow.id).limit(1)
        ).one()
        # a whole, self-consistent other draw put in the first round's place
        row.seed = "x"
        row.result, row.result_digest = other.result.as_json(), other.result.hash
    with session_scope(engine) as session:
        verdict = verify_round(session, example_bundle, "quarterly", "2026-Q2")
    assert not verdict.matches
    assert "record" in verdict.parts()


def test_two_draws_at_once_record_one(engine: Engine, example_bundle: CampaignBundle) -> None:
    outcomes: list[object] = []

    def run(seed: str) -> None:
        try:
            with session_scope(engine) as session:
                outcomes.append(draw_round(session, example_bundle, QUARTERLY, seed, JUNE))
        except RoundError as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in ("1111", "2222")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(InspectionDrawRow)) == 1
        assert session.scalar(select(func.count()).select_from(InspectionCommitmentRow)) == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["Drawn", "RoundError"]
