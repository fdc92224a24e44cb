"""Where each key task stands in its chain (重点工作推进情况): the lead and each partner, and
who is holding the task up. Pure: the ledger's facts in, plain data out.

A chain (see ``parts``) has two duties per period: each partner's part (``<id>-parts``), due
first, and the lead's report. The states are the ledger's (``model.status.state_at``): the
first accepted version decides on time or late, an extension moves the due day, an exempted
unit owes nothing. A partner's duty covers every key task of the chain it partners, so its
state shows under each of them.

A unit is *late* when it reported after its due day or, past it, has not reported (or was
returned and has not reported again). A task is *held up* by the partners whose part is past
due and not in; when every part is in (or exempted), by the lead if its report is past due and
not in; by nobody while what is missing is not due yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from duban.implement.parts import Chain, tasks_of
from duban.model.campaign import Campaign, KeyTask
from duban.model.status import InstanceFacts, State, due_day, state_at

Role = Literal["lead", "partner"]

LATE_STATES = frozenset({State.LATE, State.OVERDUE, State.REJECTED})
"""Reported after the due day, or past it with nothing accepted."""
OUT_PAST_DUE = frozenset({State.OVERDUE, State.REJECTED})
"""Past the due day and nothing accepted: what holds a chain up."""
IN = frozenset({State.ON_TIME, State.LATE, State.EXEMPTED})
"""Nothing more is owed."""


@dataclass(frozen=True)
class UnitStanding:
    """One unit's duty in a key task's chain for the period."""

    unit_id: str
    name: str
    role: Role
    state: State
    due_at: datetime  # the effective due moment (an extension moves it), exclusive
    received_at: datetime | None  # the first accepted version (decides on time or late)

    @property
    def late(self) -> bool:
        return self.state in LATE_STATES

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "unit": self.unit_id,
            "name": self.name,
            "role": self.role,
            "state": self.state.value,
            "due": due_day(self.due_at, zone).isoformat(),
            "received": None if self.received_at is None else self.received_at.isoformat(),
        }


@dataclass(frozen=True)
class TaskStanding:
    """A key task: its lead (None when the lead owes nothing this period) and partners, in the
    order the campaign file names them, and who is late or holds the task up."""

    task: KeyTask
    lead: UnitStanding | None
    partners: tuple[UnitStanding, ...]
    holding: tuple[UnitStanding, ...]

    @property
    def units(self) -> tuple[UnitStanding, ...]:
        """The lead first, then the partners."""
        return ((self.lead,) if self.lead is not None else ()) + self.partners

    @property
    def late(self) -> tuple[UnitStanding, ...]:
        """The partners late, then the lead if it is."""
        lead = (self.lead,) if self.lead is not None and self.lead.late else ()
        return tuple(p for p in self.partners if p.late) + lead

    def holds(self, unit: UnitStanding) -> bool:
        return any(h.unit_id == unit.unit_id and h.role == unit.role for h in self.holding)

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "task": self.task.id,
            "title": self.task.title,
            "lead": None if self.lead is None else self.lead.as_dict(zone),
            "partners": [p.as_dict(zone) for p in self.partners],
            "late": [u.unit_id for u in self.late],
            "holding": [u.unit_id for u in self.holding],
        }


def chain_standing(
    campaign: Campaign,
    chain: Chain,
    period: str,
    facts: Iterable[InstanceFacts],
    names: Mapping[str, str],
    as_of: datetime,
) -> list[TaskStanding]:
    """Per key task of the chain, in the campaign file's order: where its lead and partners
    stand for ``period`` at ``as_of``. ``facts``: the campaign's (others are ignored);
    ``names``: unit id → name. A unit with no duty this period (withdrawn) is left out."""
    lead_duty: dict[str, InstanceFacts] = {}
    part_duty: dict[str, InstanceFacts] = {}
    for f in facts:
        if f.period == period and f.deliverable_id == chain.lead.id:
            lead_duty[f.unit_id] = f
        elif f.period == period and f.deliverable_id == chain.parts.id:
            part_duty[f.unit_id] = f
    zone = campaign.zone

    def standing(f: InstanceFacts | None, role: Role) -> UnitStanding | None:
        if f is None:
            return None
        accepted = sorted(t for t in f.accepted_at if t <= as_of)
        return UnitStanding(f.unit_id, names.get(f.unit_id, f.unit_id), role,
                            state_at(f, as_of, zone), f.effective_due,
                            accepted[0] if accepted else None)  # fmt: skip

    found = []
    for task in tasks_of(campaign, chain.lead):
        lead = standing(lead_duty.get(task.lead), "lead")
        partners = tuple(
            s for s in (standing(part_duty.get(p), "partner") for p in task.partners) if s
        )
        found.append(TaskStanding(task, lead, partners, _holding(lead, partners)))
    return found


def _holding(
    lead: UnitStanding | None, partners: tuple[UnitStanding, ...]
) -> tuple[UnitStanding, ...]:
    if any(p.state not in IN for p in partners):
        return tuple(p for p in partners if p.state in OUT_PAST_DUE)
    if lead is not None and lead.state in OUT_PAST_DUE:
        return (lead,)
    return ()


def latest_chain_period(
    chain: Chain, facts: Iterable[InstanceFacts], as_of: datetime
) -> str | None:
    """The last period of the chain with a duty due by ``as_of``: the partners' parts are due
    first, so a period shows as soon as a partner can be late in it. None before any."""
    due = [
        (f.due_at, f.period)
        for f in facts
        if f.deliverable_id in (chain.lead.id, chain.parts.id) and f.due_at <= as_of
    ]
    return max(due)[1] if due else None
