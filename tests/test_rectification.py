"""The rectification ledger (整改台账, issue 15): items, their moves, overdue on the official
calendar, and the ledger on SQLite and PostgreSQL (codes handed out race-free, every move one
event, retries recorded once)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from duban.clock import FixedClock
from duban.errors import CalendarUnknownError, UnknownIdError
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow, InstanceRow, RectificationRow, SubmissionRow
from duban.ledger.store import register
from duban.model.campaign import RectificationSpec
from duban.model.loader import CampaignBundle
from duban.model.validation import validate_sheet
from duban.model.workdays import WorkCalendar
from duban.selfcheck.items import Item, ItemInputError, NewItem, item_code, items_from_rows
from duban.selfcheck.ledger import (
    RequestKeyReusedError,
    apply_move,
    create_items,
    get_item,
    history,
    list_items,
    open_items,
    record_problem_list,
)
from duban.selfcheck.states import (
    Action,
    Move,
    State,
    TransitionError,
    apply,
    effective_deadline,
    is_overdue,
    overdue_on,
)

ZONE = ZoneInfo("Asia/Shanghai")
CAMPAIGN = "nlzf-2026"
OFFICIAL = WorkCalendar("cn-official")
JULY = datetime(2026, 7, 1, 9, 0, tzinfo=ZONE)


def item(state: State = State.OPEN, **fields: object) -> Item:
    """An item as the ledger would hand it out, recorded on 1 July."""
    base = Item(
        code="ZG-B03-001", campaign_id=CAMPAIGN, unit_id="B03", seq=1, source="self-check",
        finding="学习制度落实不到位", category="作风不实", cause=None, measure="建立周学习制度",
        owner="张三", partners=(), deadline=date(2026, 9, 30), first_deadline=date(2026, 9, 30),
        long_term=False, state=str(state), created_at=JULY.astimezone(UTC), created_by="T",
        updated_at=JULY.astimezone(UTC),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ codes


def test_codes_are_readable_and_padded_to_three() -> None:
    assert item_code("B03", 7) == "ZG-B03-007"
    assert item_code("T12", 120) == "ZG-T12-120"
    assert item_code("B03", 1234) == "ZG-B03-1234"


# ------------------------------------------------------------------------------ transitions

# Written out here, not read from states.py: each (state, action) and where it leads, or None
# when it must be refused.
EXPECTED: dict[tuple[State, Action], State | None] = {
    (State.OPEN, Action.PROGRESS): State.IN_PROGRESS,
    (State.OPEN, Action.CLAIM): State.CLAIMED,
    (State.OPEN, Action.CLOSE): None,
    (State.OPEN, Action.RETURN): None,
    (State.OPEN, Action.CANCEL): State.CANCELLED,
    (State.OPEN, Action.EXTEND): State.OPEN,
    (State.IN_PROGRESS, Action.PROGRESS): State.IN_PROGRESS,
    (State.IN_PROGRESS, Action.CLAIM): State.CLAIMED,
    (State.IN_PROGRESS, Action.CLOSE): None,
    (State.IN_PROGRESS, Action.RETURN): None,
    (State.IN_PROGRESS, Action.CANCEL): State.CANCELLED,
    (State.IN_PROGRESS, Action.EXTEND): State.IN_PROGRESS,
    (State.CLAIMED, Action.PROGRESS): None,
    (State.CLAIMED, Action.CLAIM): None,
    (State.CLAIMED, Action.CLOSE): State.CLOSED,
    (State.CLAIMED, Action.RETURN): State.IN_PROGRESS,
    (State.CLAIMED, Action.CANCEL): State.CANCELLED,
    (State.CLAIMED, Action.EXTEND): State.CLAIMED,
    **{(State.CLOSED, a): None for a in Action},
    **{(State.CANCELLED, a): None for a in Action},
}


def complete_move(action: Action) -> Move:
    """A move with everything its action needs, by the coordinator."""
    return Move(
        action,
        actor="市优化办",
        reason="理由",
        note="进展",
        evidence="已建立制度并执行",
        deadline=date(2026, 10, 30),
    )


def test_the_table_covers_every_state_and_action() -> None:
    assert set(EXPECTED) == {(s, a) for s in State for a in Action}


@pytest.mark.parametrize(("state", "action"), list(EXPECTED), ids=lambda v: str(v))
def test_each_move_is_allowed_or_refused_as_the_table_says(state: State, action: Action) -> None:
    at = datetime(2026, 8, 1, 2, tzinfo=UTC)
    expected = EXPECTED[(state, action)]
    if expected is None:
        with pytest.raises(TransitionError) as caught:
            apply(item(state), complete_move(action), at, ZONE)
        assert caught.value.message.startswith("ZG-B03-001 is ")
        assert "不能" in (caught.value.zh or "")
    else:
        moved = apply(item(state), complete_move(action), at, ZONE)
        assert moved.state == expected
        assert moved.updated_at == at


def test_a_refusal_says_what_is_allowed_in_both_languages() -> None:
    with pytest.raises(TransitionError) as caught:
        apply(item(State.OPEN), complete_move(Action.CLOSE), JULY, ZONE)
    assert caught.value.said("en") == (
        "ZG-B03-001 is open: it cannot be closed",
        "what ZG-B03-001 allows now: progress, claim, cancel, extend",
    )
    assert caught.value.said("zh-CN") == (
        "ZG-B03-001当前未启动，不能销号",
        "ZG-B03-001当前可以：报告进展、申请销号、作废、延期",
    )
    with pytest.raises(TransitionError) as caught:
        apply(item(State.CLOSED), complete_move(Action.RETURN), JULY, ZONE)
    assert caught.value.said("zh-CN")[1] == "ZG-B03-001已办结；再次发现的问题请作为新问题登记"


@pytest.mark.parametrize("action", [Action.CLOSE, Action.RETURN, Action.CANCEL, Action.EXTEND])
def test_only_the_coordinator_verifies_returns_cancels_and_extends(action: Action) -> None:
    state = State.CLAIMED
    with pytest.raises(TransitionError) as caught:
        apply(item(state), replace(complete_move(action), role="unit"), JULY, ZONE)
    assert caught.value.message.startswith("only the coordinator may mark ZG-B03-001")
    assert (caught.value.zh or "").startswith("只有牵头部门")


def test_a_unit_reports_progress_and_claims() -> None:
    moved = apply(item(), Move(Action.PROGRESS, "B03", role="unit", note="已部署"), JULY, ZONE)
    moved = apply(moved, Move(Action.CLAIM, "B03", role="unit", evidence="制度已印发"), JULY, ZONE)
    assert (moved.state, moved.progress, moved.evidence) == ("claimed", "已部署", "制度已印发")


def test_a_coordinators_note_leaves_the_units_progress_as_reported() -> None:
    claimed = item(State.CLAIMED, progress="已部署并完成")
    closed = apply(claimed, Move(Action.CLOSE, "市优化办", note="现场核验属实"), JULY, ZONE)
    returned = apply(claimed, Move(Action.RETURN, "市优化办", reason="佐证不足", note="补材料"),
                     JULY, ZONE)  # fmt: skip
    assert (closed.progress, returned.progress) == ("已部署并完成", "已部署并完成")


@pytest.mark.parametrize(
    ("state", "move", "english", "zh"),
    [
        (State.CLAIMED, Move(Action.RETURN, "T", reason="  "),
         "a return of ZG-B03-001 needs a reason", "退回ZG-B03-001须写明理由"),
        (State.OPEN, Move(Action.CANCEL, "T"),
         "a cancellation of ZG-B03-001 needs a reason", "作废ZG-B03-001须写明理由"),
        (State.OPEN, Move(Action.EXTEND, "T", deadline=date(2026, 10, 30)),
         "an extension of ZG-B03-001 needs a reason", "延期ZG-B03-001须写明理由"),
        (State.OPEN, Move(Action.EXTEND, "T", reason="汛期"),
         "extending ZG-B03-001 needs the new deadline", "ZG-B03-001延期须写明新的时限"),
        (State.OPEN, Move(Action.EXTEND, "T", reason="汛期", deadline=date(2026, 9, 30)),
         "an extension of ZG-B03-001 must move its deadline later than 2026-09-30",
         "ZG-B03-001延期后的时限须晚于原时限 2026-09-30"),
        (State.IN_PROGRESS, Move(Action.CLAIM, "B03", role="unit", evidence=""),
         "a completion claim for ZG-B03-001 needs its evidence", "ZG-B03-001申请销号须写明"),
        (State.IN_PROGRESS, Move(Action.CLAIM, "B03", evidence="x", completed_on=date(2026, 6, 30)),
         "ZG-B03-001 cannot have been completed on 2026-06-30, before it was recorded (2026-07-01)",
         "ZG-B03-001的完成日期 2026-06-30 早于问题登记日期 2026-07-01"),
        (State.IN_PROGRESS, Move(Action.CLAIM, "B03", evidence="x", completed_on=date(2026, 8, 2)),
         "ZG-B03-001 cannot have been completed on 2026-08-02, which is after today (2026-08-01)",
         "ZG-B03-001的完成日期 2026-08-02 晚于今天（2026-08-01）"),
        (State.CLAIMED, Move(Action.CLOSE, "李华", reviewer=" 李华 "),
         "the second reviewer of ZG-B03-001 must be someone other than 李华",
         "ZG-B03-001的复核人须为李华以外的另一人"),
    ],
    ids=["return", "cancel", "extend-reason", "extend-day", "extend-earlier", "evidence",
         "before-recorded", "future", "reviewer"],
)  # fmt: skip
def test_a_move_missing_what_it_needs_is_refused(
    state: State, move: Move, english: str, zh: str
) -> None:
    # 23:30 in Shanghai on 1 August is already 1 August; 2 August is tomorrow there.
    at = datetime(2026, 8, 1, 23, 30, tzinfo=ZONE)
    with pytest.raises(TransitionError) as caught:
        apply(item(state), move, at, ZONE)
    assert caught.value.message.startswith(english)
    assert (caught.value.zh or "").startswith(zh)


def test_a_claim_dated_the_day_it_was_recorded_or_today_is_accepted() -> None:
    at = datetime(2026, 8, 1, 23, 30, tzinfo=ZONE)
    for day in (date(2026, 7, 1), date(2026, 8, 1)):
        moved = apply(item(), Move(Action.CLAIM, "B03", evidence="x", completed_on=day), at, ZONE)
        assert moved.completed_on == day


def test_closing_records_who_closed_and_who_reviewed() -> None:
    at = datetime(2026, 9, 1, 2, tzinfo=UTC)
    closed = apply(item(State.CLAIMED), Move(Action.CLOSE, "王明", reviewer="李华"), at, ZONE)
    assert (closed.closed_at, closed.closed_by, closed.reviewed_by) == (at, "王明", "李华")


def test_an_extension_keeps_the_state_and_the_first_deadline() -> None:
    move = Move(Action.EXTEND, "T", reason="汛期", deadline=date(2026, 10, 30))
    moved = apply(item(State.IN_PROGRESS), move, JULY, ZONE)
    assert (moved.state, moved.deadline, moved.first_deadline) == (
        "in_progress",
        date(2026, 10, 30),
        date(2026, 9, 30),
    )


# ------------------------------------------------------------------------------ overdue


@pytest.mark.parametrize(
    ("deadline", "last_on_time", "calendar"),
    [
        (date(2026, 9, 18), date(2026, 9, 18), OFFICIAL),  # a Friday, a working day
        # Saturday 19 September is off, Sunday 20 September a working day (国庆调休)
        (date(2026, 9, 19), date(2026, 9, 20), OFFICIAL),
        # on plain weekends the same Saturday moves to Monday
        (date(2026, 9, 19), date(2026, 9, 21), WorkCalendar("weekends")),
        # National Day: 1-7 October off, 8 October the next working day
        (date(2026, 10, 3), date(2026, 10, 8), OFFICIAL),
        # a day the campaign closes moves too
        (date(2026, 9, 18), date(2026, 9, 20),
         WorkCalendar("cn-official", closed=frozenset({date(2026, 9, 18)}))),
    ],
    ids=["working-day", "official-saturday", "weekends-saturday", "national-day", "closed"],
)  # fmt: skip
def test_overdue_from_the_day_after_the_next_working_day(
    deadline: date, last_on_time: date, calendar: WorkCalendar
) -> None:
    due = item(State.IN_PROGRESS, deadline=deadline)
    assert effective_deadline(deadline, calendar) == last_on_time
    assert not overdue_on(due, last_on_time, calendar)
    assert overdue_on(due, last_on_time + timedelta(days=1), calendar)


def test_a_deadline_kept_as_written_when_the_deliverable_says_so() -> None:
    due = item(deadline=date(2026, 10, 3))
    assert overdue_on(due, date(2026, 10, 4), OFFICIAL, roll=False)
    assert not overdue_on(due, date(2026, 10, 4), OFFICIAL, roll=True)


def test_a_deadline_in_a_year_the_calendar_does_not_know_yet_is_no_error() -> None:
    """chinese-calendar knows 2026, not 2027: a 2027 deadline is not overdue in 2026, and
    asking about it in 2027 says the year must be declared instead of guessing."""
    next_year = item(deadline=date(2027, 1, 15))
    assert not overdue_on(next_year, date(2026, 12, 31), OFFICIAL)
    assert not overdue_on(next_year, date(2027, 1, 15), OFFICIAL)
    with pytest.raises(CalendarUnknownError):
        overdue_on(next_year, date(2027, 1, 16), OFFICIAL)


def test_overdue_at_local_midnight_not_utc_midnight() -> None:
    due = item(deadline=date(2026, 9, 18))
    assert not is_overdue(due, datetime(2026, 9, 18, 23, 59, tzinfo=ZONE), OFFICIAL, ZONE)
    # 00:00 on 19 September in Shanghai is still 18 September in UTC
    assert is_overdue(due, datetime(2026, 9, 18, 16, 0, tzinfo=UTC), OFFICIAL, ZONE)


@pytest.mark.parametrize(
    "fields",
    [{"long_term": True}, {"state": "closed"}, {"state": "cancelled"},
     {"long_term": True, "deadline": None}],
    ids=["long-term", "closed", "cancelled", "long-term-no-deadline"],
)  # fmt: skip
def test_long_term_closed_and_cancelled_items_are_never_overdue(fields: dict[str, object]) -> None:
    late = item(**{"deadline": date(2026, 7, 10), **fields})  # type: ignore[arg-type]
    assert not overdue_on(late, date(2026, 12, 31), OFFICIAL)
    assert overdue_on(item(deadline=date(2026, 7, 10)), date(2026, 12, 31), OFFICIAL)


# ------------------------------------------------------------------------------ from a form

COLUMNS = ("finding", "measure", "category", "owner", "due", "partners")
SPEC = RectificationSpec.model_validate({"columns": {key: key for key in COLUMNS}})


def test_a_problem_lists_rows_become_items() -> None:
    rows: list[dict[str, object]] = [
        {"category": "作风不实", "finding": "会议多", "measure": "精简会议", "owner": "张三",
         "due": "2026-09-30", "partners": "B10、B02", "state": "未启动"},
        {"category": "能力不足", "finding": "培训少", "measure": "每月培训", "owner": "李四",
         "due": "长期坚持", "partners": None, "state": "整改中"},
    ]  # fmt: skip
    first, second = items_from_rows(rows, SPEC, "B03", origin="submission:7", submission_id=7)
    assert first == NewItem(
        unit_id="B03", finding="会议多", source="self-check", category="作风不实",
        measure="精简会议", owner="张三", partners=("B10", "B02"),
        deadline=date(2026, 9, 30), origin_key="submission:7:row:1", submission_id=7,
    )  # fmt: skip
    assert (second.deadline, second.long_term, second.partners) == (None, True, ())
    assert second.origin_key == "submission:7:row:2"


def test_a_row_without_a_deadline_is_named_by_its_number() -> None:
    rows: list[dict[str, object]] = [
        {"finding": "会议多", "due": "2026-09-30"},
        {"finding": "培训少", "due": None},
    ]
    with pytest.raises(ItemInputError) as caught:
        items_from_rows(rows, SPEC, "B03")
    assert caught.value.message.startswith("row 2: the item '培训少' has no deadline")
    assert caught.value.zh == "第 2 行：问题“培训少”没有整改时限，也未标明长期坚持"


# ------------------------------------------------------------------------------ the ledger


@pytest.fixture
def engine(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Engine]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    yield engine
    engine.dispose()


def new(unit: str = "B03", finding: str = "会议多", **fields: object) -> NewItem:
    return NewItem(unit, finding, **{"deadline": date(2026, 9, 30), **fields})  # type: ignore[arg-type]


def events(engine: Engine) -> list[EventRow]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(EventRow).where(EventRow.kind.like("rectification.%")).order_by(EventRow.id)
            )
        )


def test_each_unit_numbers_its_own_items(engine: Engine) -> None:
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        made = create_items(session, clock, CAMPAIGN, [new("B03"), new("T01"), new("B03")],
                            actor="collect")  # fmt: skip
    assert [r.item.code for r in made] == ["ZG-B03-001", "ZG-T01-001", "ZG-B03-002"]
    with session_scope(engine) as session:
        made = create_items(session, clock, CAMPAIGN, [new("B03")], actor="collect")
    assert made[0].item.code == "ZG-B03-003"
    assert made[0].item.state == "open"
    logged = events(engine)
    assert [(e.kind, e.subject, e.actor, e.at) for e in logged] == [
        ("rectification.created", code, "collect", JULY.astimezone(UTC))
        for code in ("ZG-B03-001", "ZG-T01-001", "ZG-B03-002", "ZG-B03-003")
    ]


def test_an_item_for_an_unregistered_unit_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(UnknownIdError) as caught:
        create_items(session, FixedClock(JULY), CAMPAIGN, [new("ZZ9")], actor="x")
    assert caught.value.message == f"no unit 'ZZ9' registered in {CAMPAIGN}"


def test_the_same_origin_recorded_again_creates_nothing(engine: Engine) -> None:
    clock = FixedClock(JULY)
    batch = [new(finding=f, origin_key=f"s:1:row:{n}") for n, f in enumerate(["会议多", "培训少"])]
    with session_scope(engine) as session:
        first = create_items(session, clock, CAMPAIGN, batch, actor="collect")
    with session_scope(engine) as session:
        again = create_items(session, clock, CAMPAIGN, [*batch, new(origin_key="s:2:row:1")],
                             actor="collect")  # fmt: skip
    assert [r.new for r in first] == [True, True]
    assert [(r.item.code, r.new) for r in again] == [
        ("ZG-B03-001", False), ("ZG-B03-002", False), ("ZG-B03-003", True)
    ]  # fmt: skip
    assert len(events(engine)) == 3


def walk(engine: Engine, clock: FixedClock, code: str, moves: list[Move]) -> None:
    for move in moves:
        clock.advance(timedelta(days=1))
        with session_scope(engine) as session:
            apply_move(session, clock, CAMPAIGN, code, move, zone=ZONE)


def test_every_move_writes_one_event_with_actor_time_and_reason(engine: Engine) -> None:
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        [made] = create_items(session, clock, CAMPAIGN, [new()], actor="collect")
    code = made.item.code
    moves = [
        Move(Action.PROGRESS, "B03", role="unit", note="已部署"),
        Move(Action.CLAIM, "B03", role="unit", evidence="已印发制度", files=("raw/ab12",)),
        Move(Action.RETURN, "王明", reason="佐证材料不全"),
        Move(Action.EXTEND, "王明", reason="需补充材料", deadline=date(2026, 10, 30)),
        Move(Action.CLAIM, "B03", role="unit", evidence="补充会议记录"),
        Move(Action.CLOSE, "王明", reviewer="李华"),
    ]
    walk(engine, clock, code, moves)
    with session_scope(engine) as session:
        trail = history(session, CAMPAIGN, code)
        closed = get_item(session, CAMPAIGN, code)
    day = timedelta(days=1)
    assert [(e.kind, e.actor, e.at, e.payload.get("from"), e.payload.get("to")) for e in trail] == [
        ("rectification.created", "collect", JULY, None, None),
        ("rectification.progress", "B03", JULY + day, "open", "in_progress"),
        ("rectification.claimed", "B03", JULY + 2 * day, "in_progress", "claimed"),
        ("rectification.returned", "王明", JULY + 3 * day, "claimed", "in_progress"),
        ("rectification.extended", "王明", JULY + 4 * day, "in_progress", "in_progress"),
        ("rectification.claimed", "B03", JULY + 5 * day, "in_progress", "claimed"),
        ("rectification.closed", "王明", JULY + 6 * day, "claimed", "closed"),
    ]  # fmt: skip
    assert trail[2].payload["files"] == ["raw/ab12"]
    assert trail[3].payload["reason"] == "佐证材料不全"
    assert trail[4].payload.items() >= {"reason": "需补充材料", "deadline": "2026-10-30",
                                        "previous_deadline": "2026-09-30"}.items()  # fmt: skip
    assert trail[6].payload["reviewer"] == "李华"
    assert (closed.state, closed.closed_by, closed.reviewed_by) == ("closed", "王明", "李华")
    assert closed.closed_at == JULY + 6 * day
    assert (closed.deadline, closed.first_deadline) == (date(2026, 10, 30), date(2026, 9, 30))
    assert closed.evidence == "补充会议记录"
    assert closed.last_reason == "佐证材料不全"


def test_a_refused_move_writes_nothing(engine: Engine) -> None:
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        [made] = create_items(session, clock, CAMPAIGN, [new()], actor="collect")
    with session_scope(engine) as session, pytest.raises(TransitionError):
        apply_move(session, clock, CAMPAIGN, made.item.code, Move(Action.CLOSE, "王明"), zone=ZONE)
    with session_scope(engine) as session:
        assert get_item(session, CAMPAIGN, made.item.code).state == "open"
    assert len(events(engine)) == 1


def test_a_retried_move_is_recorded_once(engine: Engine) -> None:
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        [made] = create_items(session, clock, CAMPAIGN, [new()], actor="collect")
    code = made.item.code
    claim = Move(Action.CLAIM, "B03", role="unit", evidence="已完成", request_key="sub:9:row:1")
    outcomes = []
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        with session_scope(engine) as session:
            outcomes.append(apply_move(session, clock, CAMPAIGN, code, claim, zone=ZONE))
    assert [o.new for o in outcomes] == [True, False]
    assert outcomes[1].item.claimed_at == outcomes[0].item.claimed_at
    assert [e.kind for e in events(engine)] == ["rectification.created", "rectification.claimed"]
    other = replace(claim, evidence="另一份材料")
    with session_scope(engine) as session, pytest.raises(RequestKeyReusedError) as caught:
        apply_move(session, clock, CAMPAIGN, code, other, zone=ZONE)
    assert caught.value.zh == f"请求编号“sub:9:row:1”已用于{code}的另一项变更"


def test_an_unknown_code_names_the_known_ones(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_items(session, FixedClock(JULY), CAMPAIGN, [new()], actor="x")
    with session_scope(engine) as session, pytest.raises(UnknownIdError) as caught:
        get_item(session, CAMPAIGN, "ZG-B03-009")
    assert caught.value.said("en") == (
        f"no rectification item 'ZG-B03-009' in {CAMPAIGN}",
        "choose one of: ZG-B03-001",
    )
    assert caught.value.said("zh-CN")[0] == f"活动 {CAMPAIGN} 中没有整改事项“ZG-B03-009”"


def test_lists_by_unit_state_and_overdue_and_nothing_is_deleted(engine: Engine) -> None:
    clock = FixedClock(JULY)
    batch = [
        new("B03", "甲", deadline=date(2026, 9, 18)),
        new("B03", "乙", deadline=date(2026, 10, 3)),
        new("B03", "丙", deadline=None, long_term=True),
        new("B03", "丁", deadline=date(2026, 9, 18)),
        new("T01", "戊", deadline=date(2026, 9, 18)),
    ]
    with session_scope(engine) as session:
        create_items(session, clock, CAMPAIGN, batch, actor="collect")
    walk(engine, clock, "ZG-B03-004", [Move(Action.CANCEL, "王明", reason="重复登记")])
    walk(engine, clock, "ZG-B03-002", [Move(Action.CLAIM, "B03", evidence="完成")])
    with session_scope(engine) as session:
        b03 = [i.code for i in open_items(session, CAMPAIGN, "B03")]
        claimed = [i.code for i in list_items(session, CAMPAIGN, states=[State.CLAIMED])]
        late = list_items(session, CAMPAIGN, overdue=(date(2026, 9, 19), OFFICIAL))
        later = list_items(session, CAMPAIGN, unit_id="B03", overdue=(date(2026, 10, 9), OFFICIAL))
        every = session.scalar(select(func.count()).select_from(RectificationRow))
    assert b03 == ["ZG-B03-001", "ZG-B03-002", "ZG-B03-003"]
    assert claimed == ["ZG-B03-002"]
    assert [i.code for i in late] == ["ZG-B03-001", "ZG-T01-001"]
    assert [i.code for i in later] == ["ZG-B03-001", "ZG-B03-002"]
    assert every == 5


@pytest.mark.stress
def test_two_writers_at_once_never_share_a_code(engine: Engine) -> None:
    """Two threads, each on its own connection, record items for the same unit at once, one
    transaction per item; every code is handed out once and none is skipped."""
    per_thread, clock = 15, FixedClock(JULY)
    start, failures = threading.Barrier(2), []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with session_scope(engine) as session:
                    create_items(session, clock, CAMPAIGN, [new(finding=f"{name}{n}")], actor=name)
        except Exception as error:  # reported below, with the thread's name
            failures.append(f"{name}: {error!r}")

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with session_scope(engine) as session:
        codes = session.scalars(select(RectificationRow.code)).all()
    assert sorted(codes) == [item_code("B03", n) for n in range(1, 2 * per_thread + 1)]


def race(engine: Engine, clock: FixedClock, code: str, moves: list[Move]) -> list[str]:
    """Apply ``moves`` to one item at once, each from its own thread and connection; what
    became of each: applied, refused, or the unexpected error."""
    start, outcomes = threading.Barrier(len(moves)), []

    def judge(move: Move) -> None:
        start.wait()
        try:
            with session_scope(engine) as session:
                apply_move(session, clock, CAMPAIGN, code, move, zone=ZONE)
            outcomes.append("applied")
        except TransitionError:
            outcomes.append("refused")
        except Exception as error:  # reported by the caller's assertion
            outcomes.append(repr(error))

    threads = [threading.Thread(target=judge, args=(move,)) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.stress
def test_two_verdicts_at_once_apply_one_after_the_other(engine: Engine) -> None:
    """The coordinator closes and an inspector returns the same claimed item at the same moment
    (two connections): one verdict is applied, the other is refused against its result, and
    the log holds one verdict. Five items, five races (without the item's lock, both were
    applied on the first)."""
    clock = FixedClock(JULY)
    with session_scope(engine) as session:
        made = create_items(session, clock, CAMPAIGN, [new() for _ in range(5)], actor="x")
    verdicts = [Move(Action.CLOSE, "王明"), Move(Action.RETURN, "李华", reason="材料不全")]
    for code in [r.item.code for r in made]:
        walk(engine, clock, code, [Move(Action.CLAIM, "B03", role="unit", evidence="完成")])
        assert race(engine, clock, code, verdicts) == ["applied", "refused"], code
        with session_scope(engine) as session:
            kinds = [e.kind for e in history(session, CAMPAIGN, code)]
        assert kinds[:2] == ["rectification.created", "rectification.claimed"]
        assert kinds[2:] in (["rectification.closed"], ["rectification.returned"])


def accepted(engine: Engine, deliverable: str, unit: str, rows: dict[str, Any]) -> int:
    """A submission as intake records an accepted workbook; its id."""
    with session_scope(engine) as session:
        instance = session.scalars(
            select(InstanceRow).where(
                InstanceRow.deliverable_id == deliverable, InstanceRow.unit_id == unit
            )
        ).one()
        row = SubmissionRow(
            instance_id=instance.id, version=1, sha256="0" * 64, received_at=JULY,
            on_time=True, row_count=sum(len(r) for r in rows.values()), rows=rows,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_the_example_problem_list_becomes_items(
    engine: Engine, example_bundle: CampaignBundle
) -> None:
    """The example's self-check form, checked cell by cell as intake checks it, through its
    deliverable's mapping, into the ledger: what a unit wrote is what the items hold."""
    deliverable = example_bundle.campaign.deliverable("self-check")
    assert deliverable.rectification is not None
    [sheet] = example_bundle.campaign.form(deliverable.form).sheets
    grid: list[list[object]] = [
        [sheet.title],
        [c.label for c in sheet.columns],
        ["作风不实", "会议多", "形式主义", "精简会议", "张三", None, "2026/9/30", "整改中"],
        [None] * 8,  # a blank row in between is skipped
        ["能力不足", "培训少", None, "每月培训", "李四", "li@b03.example", 46300, "未启动"],
    ]
    rows, problems = validate_sheet(sheet, grid)
    assert problems == []
    submission_id = accepted(engine, "self-check", "B03", {sheet.name: rows})
    made = []
    for _ in range(2):  # the second time as a retry after a crash would
        with session_scope(engine) as session:
            made.append(record_problem_list(
                session, FixedClock(JULY), example_bundle, "self-check", "B03",
                {sheet.name: rows}, submission_id=submission_id, actor="collect",
            ))  # fmt: skip
    assert [[r.new for r in m] for m in made] == [[True, True], [False, False]]
    first, second = (r.item for r in made[0])
    assert (first.code, first.category, first.finding, first.cause, first.measure) == (
        "ZG-B03-001", "作风不实", "会议多", "形式主义", "精简会议"
    )  # fmt: skip
    assert (first.owner, first.deadline, first.source, first.long_term) == (
        "张三", date(2026, 9, 30), "self-check", False
    )  # fmt: skip
    # 46300 is Excel's serial for 2026-10-05
    assert (second.code, second.cause, second.deadline) == ("ZG-B03-002", None, date(2026, 10, 5))
    assert (first.submission_id, first.origin_key) == (
        submission_id,
        f"submission:{submission_id}:row:1",
    )


def _record_many(url: str, name: str, count: int, start: Any) -> None:
    """A second process's work: ``count`` items for B03, one transaction each."""
    engine = make_engine(url)
    start.wait()
    for n in range(count):
        with session_scope(engine) as session:
            create_items(
                session, FixedClock(JULY), CAMPAIGN, [new(finding=f"{name}{n}")], actor=name
            )
    engine.dispose()


@pytest.mark.stress
def test_two_processes_at_once_never_share_a_code(engine: Engine, ledger_url: str) -> None:
    """As two ``duban collect`` runs would: two processes, each with its own engine, record
    items for one unit at once."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_record_many, args=(ledger_url, name, 15, start))
        for name in ("p", "q")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    assert [w.exitcode for w in workers] == [0, 0]
    with session_scope(engine) as session:
        codes = session.scalars(select(RectificationRow.code)).all()
    assert sorted(codes) == [item_code("B03", n) for n in range(1, 31)]


class Ticking:
    """A clock a second later at every reading, as the wall clock is a little later."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


def test_an_items_times_are_its_events_times(engine: Engine) -> None:
    clock = Ticking(JULY)
    with session_scope(engine) as session:
        [made] = create_items(session, clock, CAMPAIGN, [new()], actor="x")
    code = made.item.code
    for move in (Move(Action.CLAIM, "B03", evidence="完成"), Move(Action.CLOSE, "王明")):
        with session_scope(engine) as session:
            apply_move(session, clock, CAMPAIGN, code, move, zone=ZONE)
    with session_scope(engine) as session:
        done, trail = get_item(session, CAMPAIGN, code), history(session, CAMPAIGN, code)
    assert [e.at for e in trail] == [done.created_at, done.claimed_at, done.closed_at]
    assert done.updated_at == done.closed_at
