"""What a unit owes at the moment of a chase, and the rung of the ladder due for each: its
duties (deliverable periods not submitted) and its rectification items (整改事项).

A duty's rung is ``model.ladder.due_rung``. An item's deadline is chased up the same ladder
(提醒 → 催办 → 督办 → 约谈): the ladder of the deliverable whose problem list created the item,
or the campaign's default for an item that came another way (an import, a hand-down). The
ladder's "due day" is the item's effective deadline: a deadline on a day off rolls to the next
working day unless the campaign says otherwise, exactly as ``duban rectify list`` judges an item
overdue. Only items the unit still has to act on are chased: open and in progress. A claimed
item waits for the coordinator's verification, a closed or cancelled one is done; a long-term
item (长期坚持) is never overdue, so it gets no rung after its deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import CalendarUnknownError
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.ledger.store import instance_facts
from duban.model.campaign import Campaign, Rung
from duban.model.ladder import DueRung, due_rung
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.status import InstanceFacts, state_at
from duban.model.status import State as DutyState
from duban.model.workdays import WorkCalendar
from duban.selfcheck.commands import roll_of
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import list_items
from duban.selfcheck.states import State, effective_deadline

CHASED_ITEMS = frozenset({State.OPEN, State.IN_PROGRESS})
LOOKAHEAD = timedelta(days=70)
"""Farther from its deadline than this, no rung of any ladder (30 working days before at most,
holidays included) can be due: such an item is passed over without asking the calendar, which
may not know the deadline's year yet."""


@dataclass(frozen=True)
class Owed:
    """A duty still owed at the moment of the chase, and the rung due for it."""

    facts: InstanceFacts
    state: DutyState
    due: DueRung
    unit: Unit

    @property
    def cover_key(self) -> str:
        """What marks this rung of this duty as sent (the key its own message had before
        reminders were grouped per unit and day, so rungs sent then count as sent)."""
        return f"rung:{self.due.rung.kind}:{self.facts.instance_id}"


def owed_now(
    session: Session, bundle: CampaignBundle, as_of: datetime, deliverable: str | None = None
) -> list[Owed]:
    campaign, zone = bundle.campaign, bundle.campaign.zone
    owed = []
    for facts in instance_facts(session, campaign.id):
        if deliverable is not None and facts.deliverable_id != deliverable:
            continue
        state = state_at(facts, as_of, zone)
        ladder = campaign.ladder_of(campaign.deliverable(facts.deliverable_id))
        due = due_rung(state, facts.effective_due, ladder, as_of, bundle.calendar, zone)
        unit = bundle.units_by_id.get(facts.unit_id)
        if due is not None and unit is not None:
            owed.append(Owed(facts, state, due, unit))
    return owed


@dataclass(frozen=True)
class OwedItem:
    """An item still to be acted on at the moment of the chase, and the rung due for it."""

    item: Item
    due: DueRung
    unit: Unit
    deadline: date  # the effective deadline: the last day that counts as on time
    late_days: int  # working days past ``deadline`` (0 up to it)

    @property
    def cover_key(self) -> str:
        """What marks this rung of this item as sent (in whichever unit-day message); the
        deadline is part of it, so an extended item (延期) goes up its ladder again."""
        return f"item-rung:{self.due.rung.kind}:{self.item.code}:{self.item.deadline}"


def item_rung(
    item: Item,
    ladder: Sequence[Rung],
    as_of: datetime,
    calendar: WorkCalendar,
    zone: ZoneInfo,
    roll: bool = True,
) -> tuple[DueRung, date] | None:
    """The highest rung whose time has come for ``item``, with its effective deadline; None
    for an item not chased (claimed, final, no deadline) or with no rung due yet."""
    if State(item.state) not in CHASED_ITEMS or item.deadline is None:
        return None
    today = as_of.astimezone(zone).date()
    if today + LOOKAHEAD < item.deadline:
        return None
    try:
        last = effective_deadline(item.deadline, calendar, roll)
        times = [_rung_time(last, rung, calendar, zone) for rung in ladder
                 if not (item.long_term and rung.offset_working_days > 0)]  # fmt: skip
    except CalendarUnknownError:
        return None  # chased once the campaign file declares that year's days
    due = [r for r in times if r.at <= as_of]
    top = max(due, key=lambda r: (r.at, r.rung.offset_working_days), default=None)
    return None if top is None else (top, last)


def _rung_time(last: date, rung: Rung, calendar: WorkCalendar, zone: ZoneInfo) -> DueRung:
    day = calendar.add_working_days(last, rung.offset_working_days)
    return DueRung(rung, day, datetime.combine(day, rung.at, tzinfo=zone))


def items_owed_now(
    session: Session, bundle: CampaignBundle, as_of: datetime, deliverable: str | None = None
) -> list[OwedItem]:
    """Every item of the campaign with a rung due at ``as_of``; with ``deliverable``, only the
    items that deliverable's problem lists created."""
    campaign, zone, calendar = bundle.campaign, bundle.campaign.zone, bundle.calendar
    items = list_items(session, campaign.id, states=CHASED_ITEMS)
    creators = _creating_deliverables(session, [i.submission_id for i in items])
    today = as_of.astimezone(zone).date()
    roll = roll_of(campaign)  # as ``duban rectify list`` judges overdue
    owed = []
    for item in items:
        creator = creators.get(item.submission_id) if item.submission_id is not None else None
        if deliverable is not None and creator != deliverable:
            continue
        unit = bundle.units_by_id.get(item.unit_id)
        ladder = ladder_of_item(campaign, creator)
        found = item_rung(item, ladder, as_of, calendar, zone, roll)
        if found is None or unit is None:
            continue
        due, last = found
        late = max(0, calendar.working_days_between(last, today)) if today > last else 0
        owed.append(OwedItem(item, due, unit, last, late))
    return owed


def ladder_of_item(campaign: Campaign, creator: str | None) -> list[Rung]:
    """The ladder of the deliverable whose problem list created the item, else the campaign's."""
    known = {d.id: d for d in campaign.deliverables}
    deliverable = known.get(creator) if creator is not None else None
    return campaign.ladder_of(deliverable) if deliverable is not None else list(campaign.ladder)


def _creating_deliverables(
    session: Session, submission_ids: Sequence[int | None]
) -> dict[int, str]:
    """Submission id → the deliverable it was a version of."""
    wanted = sorted({s for s in submission_ids if s is not None})
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(SubmissionRow.id, InstanceRow.deliverable_id)
            .join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
            .where(SubmissionRow.id.in_(wanted[start : start + 500]))
        ).tuples()
        found.update({int(s): str(d) for s, d in rows})
    return found
