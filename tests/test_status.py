from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from duban.model.status import InstanceFacts, State, by_deliverable, state_at, tally

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # end of 5 March in Shanghai


def facts(**kw: object) -> InstanceFacts:
    base: dict[str, object] = {"deliverable_id": "plan", "unit_id": "T01", "period": "once"}
    return InstanceFacts(due_at=DUE, **(base | kw))  # type: ignore[arg-type]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        ("2026-02-20T09:00", State.NOT_YET_DUE),
        ("2026-03-02T09:00", State.DUE_SOON),
        ("2026-03-05T23:59", State.DUE_TODAY),
        ("2026-03-06T00:00", State.OVERDUE),
    ],
)
def test_states_of_a_unit_that_sent_nothing(moment: str, state: State) -> None:
    assert state_at(facts(), at(moment), SHANGHAI) is state


def test_first_valid_version_decides_timeliness() -> None:
    f = facts(accepted_at=(at("2026-03-05T18:00"), at("2026-03-20T10:00")))
    assert state_at(f, at("2026-03-04T00:00"), SHANGHAI) is State.DUE_SOON  # not yet received
    assert state_at(f, at("2026-03-25T00:00"), SHANGHAI) is State.ON_TIME


def test_late_submission() -> None:
    f = facts(accepted_at=(at("2026-03-06T08:30"),))
    assert state_at(f, at("2026-03-10T00:00"), SHANGHAI) is State.LATE


def test_rejected_then_nothing_valid() -> None:
    f = facts(rejected_at=(at("2026-03-04T10:00"),))
    assert state_at(f, at("2026-03-04T09:00"), SHANGHAI) is State.DUE_SOON
    assert state_at(f, at("2026-03-09T09:00"), SHANGHAI) is State.REJECTED


def test_extension_moves_the_deadline() -> None:
    f = facts(extended_to=DUE + timedelta(days=10), accepted_at=(at("2026-03-10T10:00"),))
    assert state_at(f, at("2026-03-06T09:00"), SHANGHAI) is State.EXTENDED
    assert state_at(f, at("2026-03-11T09:00"), SHANGHAI) is State.ON_TIME


def test_exemption_wins() -> None:
    assert state_at(facts(exempt=True), at("2026-04-01T00:00"), SHANGHAI) is State.EXEMPTED


def test_tally_rates_leave_exempted_out_of_expected() -> None:
    moment = at("2026-03-10T00:00")
    rows = [
        facts(unit_id="A", accepted_at=(at("2026-03-01T10:00"),)),
        facts(unit_id="B", accepted_at=(at("2026-03-07T10:00"),)),
        facts(unit_id="C"),
        facts(unit_id="D", rejected_at=(at("2026-03-02T10:00"),)),
        facts(unit_id="E", exempt=True),
    ]
    [t] = tally([(f, state_at(f, moment, SHANGHAI)) for f in rows], by_deliverable)
    assert t.as_dict(("deliverable", "period")) == {
        "deliverable": "plan", "period": "once", "expected": 4, "received": 2, "on_time": 1,
        "late": 1, "missing": 1, "rejected": 1, "pending": 0, "exempted": 1,
        "completeness": 0.5, "timeliness": 0.25,
    }  # fmt: skip
