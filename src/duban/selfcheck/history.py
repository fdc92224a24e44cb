"""Rectification items as they stood at an earlier moment, rebuilt from their events.

The ledger's ``rectification_items`` keeps each item as it stands now; the archive's replay
needs the items as they stood when a 整改台账 or a progress bulletin (整改进展通报) was written.
Every move is an event recording the request (``Move.payload``: note, evidence, files, completed
on, deadline, reviewer, reason, and the state it led to; the actor and the instant are the
event's), not the item after it. So the item is rebuilt: from its row as first recorded (open,
its first deadline, nothing reported), each of its moves up to the moment is applied in the
order written with the very function the live move used (``states.moved``).

What the events cannot say is not guessed. A column is *unknown* for an item when:

- a move's payload lacks what it needs (a claim without its evidence, a return or cancellation
  without its reason, an extension without its deadline, any move without the state it led
  to), from that move until a later one sets it again (the state a move led to, which every
  payload records as ``to``, is taken as recorded);
- replaying all the item's events does not give the row as it stands now (the log and the table
  disagree, so neither is taken), at every moment before its last move; from then on the item
  is its row.

A caller compares what is known and says what is not (``archive.ledgers``, ``archive.bulletins``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import EventRow
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import Entry, list_items
from duban.selfcheck.states import EVENT_KINDS, Action, Move, State, moved

ACTION_OF = {kind: action for action, kind in EVENT_KINDS.items()}
MOVABLE = (
    "state", "updated_at", "progress", "evidence", "evidence_files", "completed_on", "claimed_at",
    "closed_at", "closed_by", "reviewed_by", "last_reason", "deadline",
)  # fmt: skip
"""The columns a move may change, which are rebuilt; the others are the row's."""
_MOVE = frozenset({"state", "updated_at"})
SETS: dict[Action, frozenset[str]] = {
    Action.PROGRESS: _MOVE,
    Action.CLAIM: _MOVE | {"evidence", "evidence_files", "completed_on", "claimed_at"},
    Action.CLOSE: _MOVE | {"closed_at", "closed_by", "reviewed_by"},
    Action.RETURN: _MOVE | {"last_reason"},
    Action.CANCEL: _MOVE | {"last_reason"},
    Action.EXTEND: frozenset({"updated_at", "deadline"}),
}
"""What each move sets whatever it holds (a note sets the progress besides, when given)."""
NEEDS: dict[Action, tuple[str, str]] = {
    Action.CLAIM: ("evidence", "evidence"),
    Action.RETURN: ("reason", "last_reason"),
    Action.CANCEL: ("reason", "last_reason"),
    Action.EXTEND: ("deadline", "deadline"),
}
"""The payload key a move cannot have been made without, and the column it gives."""


@dataclass(frozen=True)
class Then:
    """An item as it stood, and the columns its events cannot rebuild (compare them not)."""

    item: Item
    unknown: frozenset[str] = frozenset()
    moved_since: bool = False


def items_as_of(
    session: Session, campaign_id: str, moment: datetime, before: int | None = None
) -> list[Then]:
    """The campaign's items recorded by ``moment`` as they stood then, by unit and number.

    ``before``, the id of the event that wrote an output, takes the moves logged before it
    instead of those made by ``moment``: an output written with a backdated clock (``--as-of``)
    shows the items as they stood when its command ran, which the log's order says and the
    moment does not."""
    items = [i for i in list_items(session, campaign_id) if i.created_at <= moment]
    rows = session.scalars(
        select(EventRow)
        .where(EventRow.campaign_id == campaign_id, EventRow.kind.in_(ACTION_OF))
        .order_by(EventRow.id)
    )
    moves: dict[str, list[Entry]] = {}
    earlier: dict[str, int] = {}
    for r in rows:
        moves.setdefault(r.subject or "", []).append(
            Entry(r.at, r.kind, r.actor, dict(r.payload or {}))
        )
        if r.at <= moment if before is None else r.id < before:
            earlier[r.subject or ""] = earlier.get(r.subject or "", 0) + 1
    return [_rebuilt(i, moves.get(i.code, []), earlier.get(i.code, 0)) for i in items]


def rebuilt(item: Item, entries: Sequence[Entry], moment: datetime) -> Then:
    """``item`` (as it stands now) as it stood at ``moment``, from its events in the order
    written (pure)."""
    moves = [e for e in entries if e.kind in ACTION_OF]
    return _rebuilt(item, moves, sum(e.at <= moment for e in moves))


def _rebuilt(item: Item, moves: Sequence[Entry], earlier: int) -> Then:
    """``item`` after the first ``earlier`` of its ``moves``; after them all, the row itself
    (the item as it stands, compared as it always was: a row edited in the table is not made
    unknown by a log that no longer agrees with it)."""
    if earlier == len(moves):
        return Then(item)
    now, _ = _replayed(first_recorded(item), moves)
    disagree = {name for name in MOVABLE if getattr(now, name) != getattr(item, name)}
    then, unknown = _replayed(first_recorded(item), moves[:earlier])
    return Then(then, frozenset(unknown | disagree), earlier < len(moves))


def first_recorded(item: Item) -> Item:
    """The item as ``ledger.create_items`` recorded it: open, its first deadline, nothing
    reported."""
    return replace(item, state=str(State.OPEN), updated_at=item.created_at,
                   deadline=item.first_deadline, progress=None, evidence=None,
                   evidence_files=(), completed_on=None, claimed_at=None, closed_at=None,
                   closed_by=None, reviewed_by=None, last_reason=None)  # fmt: skip


def _replayed(item: Item, moves: Sequence[Entry]) -> tuple[Item, set[str]]:
    unknown: set[str] = set()
    for entry in moves:
        action, payload = ACTION_OF[entry.kind], entry.payload or {}
        move = _move(action, entry.actor, payload)
        item = moved(item, move, entry.at)
        unknown -= SETS[action] | ({"progress"} if move.note is not None else set())
        if action in NEEDS and getattr(move, NEEDS[action][0]) is None:
            unknown.add(NEEDS[action][1])
        if payload.get("to") in set(State):
            item = replace(item, state=str(payload["to"]))  # the state it led to, as recorded
            unknown.discard("state")
        else:
            unknown.add("state")
    return item, unknown


def _move(action: Action, actor: str, payload: dict[str, Any]) -> Move:
    """The request the event recorded (``Move.payload`` read back)."""
    return Move(
        action=action,
        actor=actor,
        role="unit" if payload.get("role") == "unit" else "coordinator",
        reason=payload.get("reason"),
        note=payload.get("note"),
        evidence=payload.get("evidence"),
        files=tuple(payload.get("files") or ()),
        completed_on=_day(payload.get("completed_on")),
        deadline=_day(payload.get("deadline")),
        reviewer=payload.get("reviewer"),
    )


def _day(text: Any) -> date | None:
    """A day as ``Move.payload`` writes it; None when absent or not a day (then unknown)."""
    try:
        return None if text is None else date.fromisoformat(str(text))
    except ValueError:
        return None
