"""How an item moves, and when it is overdue.

States (each move an event in the ledger, who, when and why)::

    open ──progress──▶ in_progress ──claim──▶ claimed ──close──▶ closed (销号)
      └───────────claim──────────────────────▲   └──return──▶ in_progress (退回)
    open / in_progress / claimed ──cancel──▶ cancelled (作废)
    open / in_progress / claimed ──extend──▶ (same state, a later deadline: 延期)

``closed`` and ``cancelled`` are final: nothing is deleted or reopened, a problem found again
is a new item. Closing, returning, cancelling and extending are the coordinator's; a unit
reports progress and claims completion (the coordinator may record these for it, as from an
import). A claim needs its evidence, a return, a cancellation and an extension their reason.

Overdue is not a state: an item is overdue when it is neither closed nor cancelled, is not
long-term (长期坚持), and its deadline has passed on the campaign's working calendar; see
``is_overdue``. ``apply`` is pure: the ledger reads the item, applies the move and writes the
result with its event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from duban.errors import DubanError
from duban.model.workdays import WorkCalendar
from duban.selfcheck.items import Item


class State(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLAIMED = "claimed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


FINAL = frozenset({State.CLOSED, State.CANCELLED})
OPEN_STATES = frozenset(State) - FINAL
""""Open items": every item neither closed nor cancelled (what a unit still owes)."""


class Action(StrEnum):
    PROGRESS = "progress"
    CLAIM = "claim"
    CLOSE = "close"
    RETURN = "return"
    CANCEL = "cancel"
    EXTEND = "extend"


Role = Literal["unit", "coordinator"]

ALLOWED_FROM: dict[Action, frozenset[State]] = {
    Action.PROGRESS: frozenset({State.OPEN, State.IN_PROGRESS}),
    Action.CLAIM: frozenset({State.OPEN, State.IN_PROGRESS}),
    Action.CLOSE: frozenset({State.CLAIMED}),
    Action.RETURN: frozenset({State.CLAIMED}),
    Action.CANCEL: OPEN_STATES,
    Action.EXTEND: OPEN_STATES,
}
LEADS_TO: dict[Action, State | None] = {
    Action.PROGRESS: State.IN_PROGRESS,
    Action.CLAIM: State.CLAIMED,
    Action.CLOSE: State.CLOSED,
    Action.RETURN: State.IN_PROGRESS,
    Action.CANCEL: State.CANCELLED,
    Action.EXTEND: None,  # the state stays
}
COORDINATOR_ONLY = frozenset({Action.CLOSE, Action.RETURN, Action.CANCEL, Action.EXTEND})
EVENT_KINDS: dict[Action, str] = {
    Action.PROGRESS: "rectification.progress",
    Action.CLAIM: "rectification.claimed",
    Action.CLOSE: "rectification.closed",
    Action.RETURN: "rectification.returned",
    Action.CANCEL: "rectification.cancelled",
    Action.EXTEND: "rectification.extended",
}
CREATED = "rectification.created"

STATE_ZH = {
    State.OPEN: "未启动",
    State.IN_PROGRESS: "整改中",
    State.CLAIMED: "已申请销号",
    State.CLOSED: "已销号",
    State.CANCELLED: "已作废",
}
STATE_EN = {
    State.OPEN: "open",
    State.IN_PROGRESS: "in progress",
    State.CLAIMED: "claimed complete",
    State.CLOSED: "closed",
    State.CANCELLED: "cancelled",
}
ACTION_ZH = {
    Action.PROGRESS: "报告进展",
    Action.CLAIM: "申请销号",
    Action.CLOSE: "销号",
    Action.RETURN: "退回",
    Action.CANCEL: "作废",
    Action.EXTEND: "延期",
}
ACTION_EN = {
    Action.PROGRESS: "given progress",
    Action.CLAIM: "claimed complete",
    Action.CLOSE: "closed",
    Action.RETURN: "returned",
    Action.CANCEL: "cancelled",
    Action.EXTEND: "extended",
}


@dataclass(frozen=True)
class Move:
    """A request to move one item: what, by whom, and what it needs.

    ``reason`` for return, cancel and extend; ``evidence`` (and optional ``files``, references
    into the raw store) and optional ``completed_on`` for a claim; ``note`` for progress (and
    optionally any other move); ``deadline`` for an extension; ``reviewer`` the optional second
    person who verified a closure. ``request_key`` makes a retried request count once.
    """

    action: Action
    actor: str
    role: Role = "coordinator"
    reason: str | None = None
    note: str | None = None
    evidence: str | None = None
    files: tuple[str, ...] = ()
    completed_on: date | None = None
    deadline: date | None = None
    reviewer: str | None = None
    request_key: str | None = None

    def payload(self) -> dict[str, Any]:
        """What the event records of the request (everything given, JSON-ready)."""
        fields: dict[str, Any] = {
            "reason": self.reason,
            "note": self.note,
            "evidence": self.evidence,
            "files": list(self.files) or None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "reviewer": self.reviewer,
            "request_key": self.request_key,
        }
        return {"action": str(self.action), "role": self.role} | {
            k: v for k, v in fields.items() if v is not None
        }


class TransitionError(DubanError):
    """A move the item's state, the mover's role or the request's content does not allow."""


def apply(item: Item, move: Move, at: datetime, zone: ZoneInfo) -> Item:
    """The item after ``move`` at ``at``, or ``TransitionError`` saying why not.

    ``zone`` is the campaign's: a claimed completion day is checked against the local day the
    item was recorded and today.
    """
    _check_allowed(item, move)
    _check_content(item, move, at, zone)
    return moved(item, move, at)


def moved(item: Item, move: Move, at: datetime) -> Item:
    """The item after ``move`` at ``at``, unchecked: what ``apply`` writes once the move is
    allowed, and what ``selfcheck.history`` replays from a move's event to rebuild the item as
    it stood then (the same function, so the rebuilt item is the one the live move wrote)."""
    state = LEADS_TO[move.action] or State(item.state)
    changed = replace(item, state=str(state), updated_at=at)
    if move.note is not None and move.action in (Action.PROGRESS, Action.CLAIM):
        # the item's progress is what the unit last reported; a coordinator's note on a
        # close, return, cancel or extension stays in that move's event
        changed = replace(changed, progress=move.note)
    if move.action is Action.CLAIM:
        changed = replace(
            changed,
            evidence=move.evidence,
            evidence_files=move.files,
            completed_on=move.completed_on,
            claimed_at=at,
        )
    elif move.action is Action.CLOSE:
        changed = replace(changed, closed_at=at, closed_by=move.actor, reviewed_by=move.reviewer)
    elif move.action in (Action.RETURN, Action.CANCEL):
        changed = replace(changed, last_reason=move.reason)
    elif move.action is Action.EXTEND:
        changed = replace(changed, deadline=move.deadline)
    return changed


def _check_allowed(item: Item, move: Move) -> None:
    state = State(item.state)
    if state not in ALLOWED_FROM[move.action]:
        allowed = [a for a in Action if state in ALLOWED_FROM[a]]
        raise TransitionError(
            f"{item.code} is {STATE_EN[state]}: it cannot be {ACTION_EN[move.action]}",
            hint=(
                f"what {item.code} allows now: {', '.join(allowed)}"
                if allowed
                else f"{item.code} is final; a problem found again is a new item"
            ),
            zh=f"{item.code}当前{STATE_ZH[state]}，不能{ACTION_ZH[move.action]}",
            zh_hint=(
                f"{item.code}当前可以：{'、'.join(ACTION_ZH[a] for a in allowed)}"
                if allowed
                else f"{item.code}已办结；再次发现的问题请作为新问题登记"
            ),
        )
    if move.action in COORDINATOR_ONLY and move.role != "coordinator":
        raise TransitionError(
            f"only the coordinator may mark {item.code} {ACTION_EN[move.action]}",
            hint="ask the coordinating office to verify it",
            zh=f"只有牵头部门可以对{item.code}{ACTION_ZH[move.action]}",
            zh_hint="请由牵头部门核验办理",
        )


def _check_content(item: Item, move: Move, at: datetime, zone: ZoneInfo) -> None:
    if move.action in (Action.RETURN, Action.CANCEL, Action.EXTEND) and not _given(move.reason):
        _refuse(
            f"{_NOUN[move.action]} of {item.code} needs a reason",
            f"{ACTION_ZH[move.action]}{item.code}须写明理由",
        )
    if move.action is Action.CLAIM:
        _check_claim(item, move, at, zone)
    if move.action is Action.EXTEND:
        _check_extension(item, move)
    if move.action is Action.CLOSE and move.reviewer is not None:
        _check_reviewer(item, move)


def _check_reviewer(item: Item, move: Move) -> None:
    """A second reviewer is a second person: the closer verifying twice is one verification."""
    reviewer = (move.reviewer or "").strip()
    if not reviewer or reviewer == move.actor.strip():
        _refuse(
            f"the second reviewer of {item.code} must be someone other than {move.actor}",
            f"{item.code}的复核人须为{move.actor}以外的另一人",
        )


_NOUN = {Action.RETURN: "a return", Action.CANCEL: "a cancellation", Action.EXTEND: "an extension"}


def _check_claim(item: Item, move: Move, at: datetime, zone: ZoneInfo) -> None:
    if not _given(move.evidence):
        _refuse(
            f"a completion claim for {item.code} needs its evidence (what was done, with proof)",
            f"{item.code}申请销号须写明整改完成情况及佐证材料",
        )
    done = move.completed_on
    if done is None:
        return
    recorded, today = item.created_at.astimezone(zone).date(), at.astimezone(zone).date()
    if done < recorded:
        _refuse(
            f"{item.code} cannot have been completed on {done}, before it was recorded "
            f"({recorded})",
            f"{item.code}的完成日期 {done} 早于问题登记日期 {recorded}",
        )
    if done > today:
        _refuse(
            f"{item.code} cannot have been completed on {done}, which is after today ({today})",
            f"{item.code}的完成日期 {done} 晚于今天（{today}）",
        )


def _check_extension(item: Item, move: Move) -> None:
    if move.deadline is None:
        _refuse(f"extending {item.code} needs the new deadline", f"{item.code}延期须写明新的时限")
    assert move.deadline is not None
    if item.deadline is not None and move.deadline <= item.deadline:
        _refuse(
            f"an extension of {item.code} must move its deadline later than {item.deadline}",
            f"{item.code}延期后的时限须晚于原时限 {item.deadline}",
        )


def _refuse(message: str, zh: str) -> None:
    raise TransitionError(message, zh=zh)


def _given(text: str | None) -> bool:
    return text is not None and bool(text.strip())


def is_open(item: Item) -> bool:
    return State(item.state) in OPEN_STATES


def effective_deadline(deadline: date, calendar: WorkCalendar, roll: bool = True) -> date:
    """The last day that still counts as on time.

    A deadline that falls on a weekend or public holiday moves to the next working day on the
    campaign's calendar (the Chinese official one, 调休 included), as a period ending on a day
    off does in administrative practice (期间届满日为节假日的，以节假日后的第一日为届满日) and as
    the reminder ladder treats a rung "on the due day"; ``roll=False`` (the deliverable's
    ``rectification.roll: none``) keeps the day as written.
    """
    return calendar.next_working_day(deadline) if roll else deadline


def overdue_on(item: Item, day: date, calendar: WorkCalendar, roll: bool = True) -> bool:
    """Whether the item is overdue on ``day`` (a local day in the campaign's zone): still open,
    not long-term, and ``day`` after the effective deadline (the deadline day counts whole)."""
    if not is_open(item) or item.long_term or item.deadline is None:
        return False
    return _after(day, item.deadline, calendar, roll)


def _after(day: date, deadline: date, calendar: WorkCalendar, roll: bool) -> bool:
    """``day`` is past the effective deadline. A day not after the deadline as written never
    is (rolling only moves it later), and is decided without the calendar: a deadline in a
    year the official calendar does not know yet (a 2027 deadline set in 2026) is no error
    until that year comes."""
    return day > deadline and day > effective_deadline(deadline, calendar, roll)


def is_overdue(
    item: Item, as_of: datetime, calendar: WorkCalendar, zone: ZoneInfo, roll: bool = True
) -> bool:
    """``overdue_on`` the local day of ``as_of``: overdue from local midnight after the
    effective deadline, as a duty is late from midnight after its due day."""
    return overdue_on(item, as_of.astimezone(zone).date(), calendar, roll)


def closed_on_time(item: Item, calendar: WorkCalendar, zone: ZoneInfo, roll: bool = True) -> bool:
    """Whether a closed item was closed (销号) on or before its effective deadline; a long-term
    item, which has no deadline to miss, counts as on time."""
    if item.state != State.CLOSED or item.closed_at is None:
        return False
    if item.long_term or item.deadline is None:
        return True
    return not _after(item.closed_at.astimezone(zone).date(), item.deadline, calendar, roll)
