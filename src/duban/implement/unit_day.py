"""One reminder message a unit a day (issue 15): everything a unit owes, in one email.

A unit that owes a deliverable and a dozen rectification items must not find thirteen emails
from duban in its inbox. So the chase groups the unit-facing rungs due at its moment per unit:
the duties' rungs and the items' rungs make one message, keyed ``chase:<campaign>:<unit>:<day>``
(the local day in the campaign's zone). The highest rung among them names the message (its
kind is the message's kind) and decides who is in copy (the head for an overdue notice).

The key is what keeps it to one a day, through ``dispatch``: recorded before sending, claimed
by one run, so two chases at once, or a second run the same day, send it once. What a message
covered is recorded when the run that claimed it has sent it: one ``chase.covered`` event per
rung (``rung:<kind>:<instance>`` for a duty, ``item-rung:<kind>:<code>:<deadline>`` for an
item), so the next day's chase leaves out every rung already sent and each rung still goes out
once. A rung sent under its own message key, before reminders were grouped, counts as covered.

A consequence, on purpose: once a unit got its message today, whatever falls due for it later
the same day (an item recorded at noon with a deadline tomorrow, a run with ``--deliverable``
after one without) waits for tomorrow's message, which still names it, at its highest rung then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.owed import Owed, OwedItem
from duban.ledger.schema import EventRow, MessageRow
from duban.ledger.store import append_event
from duban.model.campaign import Rung
from duban.model.roster import Unit
from duban.sending.dispatch import DONE, Outcome

UNIT_SIDE = frozenset({"unit", "head", "supervisor"})
COVERED = "chase.covered"
RUNG_RANK = {"reminder": 0, "final-notice": 1, "overdue-notice": 2, "escalation": 3}


@dataclass(frozen=True)
class UnitDay:
    """What one unit is sent on one day: its duties' and items' rungs now due and not sent."""

    key: str
    unit: Unit
    day: date
    duties: tuple[Owed, ...]
    items: tuple[OwedItem, ...]

    @property
    def top(self) -> Rung:
        """The highest rung of the message: it names it and decides who is in copy."""
        rungs = [o.due.rung for o in self.duties] + [i.due.rung for i in self.items]
        return max(rungs, key=lambda r: (RUNG_RANK[r.kind], r.offset_working_days))

    @property
    def covers(self) -> tuple[str, ...]:
        return (*(o.cover_key for o in self.duties), *(i.cover_key for i in self.items))


def unit_day_key(campaign_id: str, unit_id: str, day: date) -> str:
    return f"chase:{campaign_id}:{unit_id}:{day.isoformat()}"


def to_unit(rung: Rung) -> bool:
    """Whether a rung is written to the unit (an escalation goes to the office only)."""
    return bool(UNIT_SIDE.intersection(rung.to))


def unit_days(
    campaign_id: str,
    day: date,
    duties: Sequence[Owed],
    items: Sequence[OwedItem],
    covered: Iterable[str] = (),
) -> list[UnitDay]:
    """The day's messages, one per unit that has a unit-facing rung not covered yet, in unit
    order; a unit's duties by deliverable and period, its items by code. Pure."""
    done = set(covered)
    by_unit: dict[str, tuple[Unit, list[Owed], list[OwedItem]]] = {}
    for duty in duties:
        if to_unit(duty.due.rung) and duty.cover_key not in done:
            by_unit.setdefault(duty.unit.id, (duty.unit, [], []))[1].append(duty)
    for item in items:
        if to_unit(item.due.rung) and item.cover_key not in done:
            by_unit.setdefault(item.unit.id, (item.unit, [], []))[2].append(item)
    return [
        UnitDay(
            key=unit_day_key(campaign_id, unit_id, day),
            unit=unit,
            day=day,
            duties=tuple(sorted(owed, key=lambda o: (o.facts.deliverable_id, o.facts.period))),
            items=tuple(sorted(owed_items, key=lambda i: (i.item.seq, i.item.code))),
        )
        for unit_id, (unit, owed, owed_items) in sorted(by_unit.items())
    ]


def covered_among(session: Session, campaign_id: str, keys: Sequence[str]) -> set[str]:
    """Those of ``keys`` (rungs of duties and items) that a message already sent covered."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            s
            for s in session.scalars(
                select(EventRow.subject).where(
                    EventRow.campaign_id == campaign_id,
                    EventRow.subject.in_(chunk),
                    EventRow.kind == COVERED,
                )
            )
            if s is not None
        )
        found.update(
            session.scalars(
                select(MessageRow.idempotency_key).where(
                    MessageRow.idempotency_key.in_(chunk), MessageRow.status.in_(sorted(DONE))
                )
            )
        )
    return found


def record_covered(
    session: Session, clock: Clock, campaign_id: str, message: UnitDay, outcome: Outcome
) -> None:
    """Once this run has sent ``message``, mark each rung it named as sent (added to the
    session, committed with the message's own mark); a message another run sent, or one that
    failed, marks nothing: it was not this draft that went out."""
    if not outcome.claimed or outcome.status not in DONE:
        return
    for key in message.covers:
        append_event(session, clock, COVERED, campaign_id=campaign_id, subject=key,
                     actor="duban", payload={"message": message.key,
                                             "message_id": outcome.message_id})  # fmt: skip
