"""Who owes what: deliverables × assigned units × periods, the deliverable instances.

Pure functions over a loaded campaign; the ledger stores their result (``ledger.store``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from duban.model.campaign import Assign, Campaign, Deliverable, KeyTask
from duban.model.due import periods_for
from duban.model.roster import Unit
from duban.model.workdays import WorkCalendar


@dataclass(frozen=True)
class InstanceSpec:
    """One unit's duty for one deliverable in one period."""

    deliverable_id: str
    unit_id: str
    period: str
    due_date: date
    due_at: datetime

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.deliverable_id, self.unit_id, self.period)


def assigned_units(campaign: Campaign, units: Sequence[Unit], assign: Assign) -> list[Unit]:
    """The units an ``Assign`` selects, in roster order."""
    chosen: set[str] = set(assign.units)
    if assign.all:
        chosen.update(u.id for u in units)
    if assign.tags:
        wanted = set(assign.tags)
        chosen.update(u.id for u in units if wanted.intersection(u.tags))
    if assign.leads is not None:
        chosen.update(t.lead for t in _tasks(campaign, assign.leads))
    if assign.partners_of is not None:
        chosen.update(u for t in _tasks(campaign, assign.partners_of) for u in t.partners)
    chosen.difference_update(assign.exclude)
    return [u for u in units if u.id in chosen]


def _tasks(campaign: Campaign, named: Sequence[str] | Literal["all"]) -> list[KeyTask]:
    return [t for t in campaign.key_tasks if named == "all" or t.id in named]


def instances_for(
    campaign: Campaign, units: Sequence[Unit], calendar: WorkCalendar
) -> Iterator[InstanceSpec]:
    for deliverable in campaign.deliverables:
        yield from deliverable_instances(campaign, deliverable, units, calendar)


def deliverable_instances(
    campaign: Campaign, deliverable: Deliverable, units: Sequence[Unit], calendar: WorkCalendar
) -> Iterator[InstanceSpec]:
    periods = periods_for(deliverable, campaign.phase(deliverable.phase), calendar, campaign.zone)
    for unit in assigned_units(campaign, units, deliverable.assign):
        for period in periods:
            yield InstanceSpec(
                deliverable.id, unit.id, period.label, period.due_date, period.due_at
            )
