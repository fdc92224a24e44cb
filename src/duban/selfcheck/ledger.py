"""Rectification items in the ledger: recorded, moved, listed, and their history.

Functions take a session and a clock and never commit (the caller's ``session_scope`` does), so
an item's new state and its event land together or not at all. Each write holds the ledger's
write lock (``hold_write_lock``) for what it reads before writing:

* creating items, one lock per unit (taken in unit order, so two runs never wait on each other
  in a circle): the unit's next sequence number is read and used under it, so two runs
  recording items for one unit at once never hand out the same code (the unique key on
  ``code`` would refuse it anyway, as an error instead of an item);
* moving an item, one lock per item: the item is read, checked and written under it, so two
  verdicts at once apply one after the other, the second against the first's result.

Retries count once: an item created again from the same ``origin_key``, or a move sent again
with the same ``request_key``, returns what was recorded the first time and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.clock import Clock, FixedClock
from duban.errors import DubanError, UnknownIdError
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import EventRow, RectificationRow, UnitRow
from duban.ledger.store import append_event, digest
from duban.model.loader import CampaignBundle
from duban.model.workdays import WorkCalendar
from duban.selfcheck.items import Item, NewItem, item_code, items_from_rows, problem_rows
from duban.selfcheck.states import (
    CREATED,
    EVENT_KINDS,
    OPEN_STATES,
    Move,
    State,
    apply,
    overdue_on,
)

ITEM_EVENTS = (CREATED, *EVENT_KINDS.values())


@dataclass(frozen=True)
class Recorded:
    """An item after a write, and whether this call wrote it (False: a retry, already there)."""

    item: Item
    new: bool


def create_items(
    session: Session,
    clock: Clock,
    campaign_id: str,
    items: Sequence[NewItem],
    *,
    actor: str,
) -> list[Recorded]:
    """Record ``items`` (in order), each open, with its code and a ``rectification.created``
    event; one already recorded under its ``origin_key`` is returned as it stands."""
    units = sorted({i.unit_id for i in items})
    _check_units(session, campaign_id, units)
    for unit_id in units:
        hold_write_lock(session.connection(), f"rectification-unit:{campaign_id}:{unit_id}")
    known = _by_origin(session, campaign_id, [i.origin_key for i in items if i.origin_key])
    next_seq = {u: _last_seq(session, campaign_id, u) + 1 for u in units}
    now = _moment(clock)
    recorded = []
    for new in items:
        if new.origin_key is not None and new.origin_key in known:
            recorded.append(Recorded(known[new.origin_key], new=False))
            continue
        seq = next_seq[new.unit_id]
        next_seq[new.unit_id] += 1
        row = _new_row(campaign_id, new, seq, now.now(), actor)
        session.add(row)
        item = to_item(row)
        append_event(session, now, CREATED, campaign_id=campaign_id, subject=item.code,
                     actor=actor, payload=_created_payload(new))  # fmt: skip
        if new.origin_key is not None:
            known[new.origin_key] = item
        recorded.append(Recorded(item, new=True))
    session.flush()
    return recorded


def record_problem_list(
    session: Session,
    clock: Clock,
    bundle: CampaignBundle,
    deliverable_id: str,
    unit_id: str,
    rows_by_sheet: Mapping[str, Sequence[Any]],
    *,
    submission_id: int,
    actor: str,
) -> list[Recorded]:
    """A unit's accepted problem list (its rows per sheet, as validated) as items, through the
    deliverable's ``rectification`` mapping; recording the same submission again (a retry
    after a crash) creates nothing new, as each row's origin is the submission and its row."""
    deliverable = bundle.campaign.deliverable(deliverable_id)
    rows = problem_rows(bundle.campaign, deliverable, rows_by_sheet)
    assert deliverable.rectification is not None  # problem_rows refuses a deliverable without
    items = items_from_rows(
        rows,
        deliverable.rectification,
        unit_id,
        origin=f"submission:{submission_id}",
        submission_id=submission_id,
    )
    return create_items(session, clock, bundle.campaign.id, items, actor=actor)


def apply_move(
    session: Session,
    clock: Clock,
    campaign_id: str,
    code: str,
    move: Move,
    *,
    zone: ZoneInfo,
) -> Recorded:
    """Move one item (``states.apply``), write its new state and one event (actor, time, what
    was asked); ``TransitionError`` if the move is not allowed. A move whose ``request_key``
    was recorded for this item before returns the item as it stands, writing nothing; the same
    key with a different request is refused."""
    hold_write_lock(session.connection(), f"rectification-item:{campaign_id}:{code}")
    row = _row(session, campaign_id, code)
    if move.request_key is not None and _already(session, campaign_id, code, move):
        return Recorded(to_item(row), new=False)
    before, now = to_item(row), _moment(clock)
    after = apply(before, move, now.now(), zone)
    _write(row, after)
    payload = move.payload() | {"from": before.state, "to": after.state}
    if after.deadline != before.deadline:
        payload["previous_deadline"] = _iso(before.deadline)
    append_event(session, now, EVENT_KINDS[move.action], campaign_id=campaign_id,
                 subject=code, actor=move.actor, payload=payload)  # fmt: skip
    session.flush()
    return Recorded(after, new=True)


def get_item(session: Session, campaign_id: str, code: str) -> Item:
    """The item, or ``UnknownIdError`` (a mistyped code)."""
    return to_item(_row(session, campaign_id, code))


def list_items(
    session: Session,
    campaign_id: str,
    *,
    unit_id: str | None = None,
    states: Iterable[State] | None = None,
    overdue: tuple[date, WorkCalendar] | None = None,
    roll: bool = True,
) -> list[Item]:
    """The campaign's items by unit and number, narrowed to a unit, to some states, and to
    those overdue on a local day (``overdue=(day, calendar)``; ``roll`` as the deliverable's
    ``rectification.roll``)."""
    query = select(RectificationRow).where(RectificationRow.campaign_id == campaign_id)
    if unit_id is not None:
        query = query.where(RectificationRow.unit_id == unit_id)
    if states is not None:
        query = query.where(RectificationRow.state.in_([str(s) for s in states]))
    query = query.order_by(RectificationRow.unit_id, RectificationRow.seq)
    items = [to_item(row) for row in session.scalars(query)]
    if overdue is not None:
        day, calendar = overdue
        items = [i for i in items if overdue_on(i, day, calendar, roll)]
    return items


def open_items(session: Session, campaign_id: str, unit_id: str) -> list[Item]:
    """What the unit still owes: its items neither closed nor cancelled, in number order (the
    rows of its pre-filled progress workbook)."""
    return list_items(session, campaign_id, unit_id=unit_id, states=OPEN_STATES)


def open_items_by_unit(
    session: Session, campaign_id: str, unit_ids: Iterable[str]
) -> dict[str, list[Item]]:
    """``open_items`` of many units in one query (a batch of pre-filled templates); a unit
    with none is absent."""
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    query = (
        select(RectificationRow)
        .where(
            RectificationRow.campaign_id == campaign_id,
            RectificationRow.unit_id.in_(wanted),
            RectificationRow.state.in_([str(s) for s in OPEN_STATES]),
        )
        .order_by(RectificationRow.unit_id, RectificationRow.seq)
    )
    found: dict[str, list[Item]] = {}
    for row in session.scalars(query):
        found.setdefault(row.unit_id, []).append(to_item(row))
    return found


@dataclass(frozen=True)
class Entry:
    """One event of an item's history."""

    at: datetime
    kind: str
    actor: str
    payload: dict[str, Any]


def history(session: Session, campaign_id: str, code: str) -> list[Entry]:
    """Every event of the item, in the order written (its creation first)."""
    _row(session, campaign_id, code)
    rows = session.scalars(
        select(EventRow)
        .where(
            EventRow.campaign_id == campaign_id,
            EventRow.subject == code,
            EventRow.kind.in_(ITEM_EVENTS),
        )
        .order_by(EventRow.id)
    )
    return [Entry(r.at, r.kind, r.actor, dict(r.payload)) for r in rows]


def to_item(row: RectificationRow) -> Item:
    return Item(
        code=row.code,
        campaign_id=row.campaign_id,
        unit_id=row.unit_id,
        seq=row.seq,
        source=row.source,  # type: ignore[arg-type]  # written from ItemSource only
        finding=row.finding,
        category=row.category,
        cause=row.cause,
        measure=row.measure,
        owner=row.owner,
        partners=tuple(row.partners),
        deadline=row.deadline,
        first_deadline=row.first_deadline,
        long_term=row.long_term,
        state=row.state,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        progress=row.progress,
        evidence=row.evidence,
        evidence_files=tuple(row.evidence_files),
        completed_on=row.completed_on,
        claimed_at=row.claimed_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        reviewed_by=row.reviewed_by,
        last_reason=row.last_reason,
        submission_id=row.submission_id,
        origin_key=row.origin_key,
    )


_MOVABLE = (
    "state", "updated_at", "progress", "evidence", "completed_on", "claimed_at", "closed_at",
    "closed_by", "reviewed_by", "last_reason", "deadline",
)  # fmt: skip
"""What a move may change; what was found (finding, unit, code …) never changes."""


def _write(row: RectificationRow, item: Item) -> None:
    for name in _MOVABLE:
        setattr(row, name, getattr(item, name))
    row.evidence_files = list(item.evidence_files)


def _moment(clock: Clock) -> FixedClock:
    """The clock read once: an item's times and its event's time are the same instant."""
    return FixedClock(clock.now())


def _new_row(
    campaign_id: str, new: NewItem, seq: int, now: datetime, actor: str
) -> RectificationRow:
    return RectificationRow(
        campaign_id=campaign_id,
        code=item_code(new.unit_id, seq),
        unit_id=new.unit_id,
        seq=seq,
        source=new.source,
        category=new.category,
        finding=new.finding,
        cause=new.cause,
        measure=new.measure,
        owner=new.owner,
        partners=list(new.partners),
        deadline=new.deadline,
        first_deadline=new.deadline,
        long_term=new.long_term,
        state=str(State.OPEN),
        evidence_files=[],
        submission_id=new.submission_id,
        origin_key=new.origin_key,
        inspection_round_id=new.inspection_round_id,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )


def _created_payload(new: NewItem) -> dict[str, Any]:
    return {
        "unit": new.unit_id,
        "source": new.source,
        "finding": new.finding,
        "deadline": _iso(new.deadline),
        "long_term": new.long_term,
        "origin_key": new.origin_key,
        "submission_id": new.submission_id,
        **({"inspection_round_id": new.inspection_round_id} if new.inspection_round_id else {}),
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _row(session: Session, campaign_id: str, code: str) -> RectificationRow:
    row = session.scalar(
        select(RectificationRow).where(
            RectificationRow.campaign_id == campaign_id, RectificationRow.code == code
        )
    )
    if row is None:
        known = session.scalars(
            select(RectificationRow.code)
            .where(RectificationRow.campaign_id == campaign_id)
            .order_by(RectificationRow.unit_id, RectificationRow.seq)
        )
        raise UnknownIdError(
            "rectification item",
            code,
            list(known),
            where=f" in {campaign_id}",
            zh_where=f"活动 {campaign_id} 中",
        )
    return row


def _check_units(session: Session, campaign_id: str, unit_ids: list[str]) -> None:
    known = list(
        session.scalars(
            select(UnitRow.id).where(UnitRow.campaign_id == campaign_id).order_by(UnitRow.id)
        )
    )
    for unit_id in unit_ids:
        if unit_id not in known:
            raise UnknownIdError(
                "unit",
                unit_id,
                known,
                where=f" registered in {campaign_id}",
                zh_where=f"活动 {campaign_id} 已登记的单位中",
            )


def _last_seq(session: Session, campaign_id: str, unit_id: str) -> int:
    found = session.scalar(
        select(func.max(RectificationRow.seq)).where(
            RectificationRow.campaign_id == campaign_id, RectificationRow.unit_id == unit_id
        )
    )
    return int(found or 0)


def _by_origin(session: Session, campaign_id: str, keys: list[str]) -> dict[str, Item]:
    if not keys:
        return {}
    rows = session.scalars(
        select(RectificationRow).where(
            RectificationRow.campaign_id == campaign_id, RectificationRow.origin_key.in_(keys)
        )
    )
    return {row.origin_key: to_item(row) for row in rows if row.origin_key is not None}


def _already(session: Session, campaign_id: str, code: str, move: Move) -> bool:
    """Whether this item's log holds ``move.request_key``; a different request under the same
    key is refused, since answering it as done would lose it."""
    payloads = session.scalars(
        select(EventRow.payload).where(
            EventRow.campaign_id == campaign_id,
            EventRow.subject == code,
            EventRow.kind.in_(list(EVENT_KINDS.values())),
        )
    )
    asked = digest(move.payload())
    for payload in payloads:
        if payload.get("request_key") != move.request_key:
            continue
        if digest({k: v for k, v in payload.items() if k not in _RECORDED}) == asked:
            return True
        raise RequestKeyReusedError(code, str(move.request_key))
    return False


_RECORDED = ("from", "to", "previous_deadline")
"""What an event adds to the request's payload."""


class RequestKeyReusedError(DubanError):
    def __init__(self, code: str, key: str) -> None:
        super().__init__(
            f"request {key!r} was already used for a different change of {code}",
            hint="give each change its own request key",
            zh=f"请求编号“{key}”已用于{code}的另一项变更",
            zh_hint="每项变更须使用各自的请求编号",
        )
