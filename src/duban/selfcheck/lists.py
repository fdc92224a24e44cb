"""Problem lists into items: every accepted version of a deliverable whose form creates
rectification items (its ``rectification:`` mapping) becomes items, once.

This runs after intake, not inside it, because a list is accepted in more than one place (a
collect batch, a coordinator's ``review accept``) and both must end the same way: the step
reads what the ledger holds (accepted versions with no ``problem-list.recorded`` event yet)
rather than being told, so a run killed between accepting a list and recording its items
records them next time, and a run started twice records them once (the campaign's lock, the
event checked under it, and each row's origin key).

A unit that sends its list again (a new version, the old rows with a few added) does not get
its problems twice: a row whose finding is already an item of the unit is that item, and only
the others become new items. The template has no item-id column for the list itself; the
progress report (which has one) is where units update items.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import EventRow, InstanceRow, RectificationRow, SubmissionRow
from duban.ledger.store import append_event
from duban.model.loader import CampaignBundle
from duban.selfcheck.items import NewItem, items_from_rows, plain, problem_rows
from duban.selfcheck.ledger import Recorded, create_items

RECORDED = "problem-list.recorded"


@dataclass(frozen=True)
class ListRecorded:
    """One accepted list and what it added (``known``: rows that were already items)."""

    submission_id: int
    unit_id: str
    new: tuple[str, ...]
    known: int


def record_problem_lists(
    session: Session, bundle: CampaignBundle, clock: Clock, *, actor: str = "intake"
) -> list[ListRecorded]:
    """Record every accepted problem list not recorded before; what each added."""
    deliverables = [d.id for d in bundle.campaign.deliverables if d.rectification is not None]
    if not deliverables:
        return []
    campaign_id = bundle.campaign.id
    if not _waiting(session, campaign_id, deliverables):
        return []
    hold_findings_lock(session, campaign_id)
    return [
        _record(session, bundle, clock, submission, instance, actor)
        for submission, instance in _waiting(session, campaign_id, deliverables)
    ]


def hold_findings_lock(session: Session, campaign_id: str) -> None:
    """The lock under which the campaign's findings are compared with what is held and
    recorded (a problem list, an import), so two at once never record one problem twice."""
    hold_write_lock(session.connection(), f"problem-lists:{campaign_id}")


def _waiting(
    session: Session, campaign_id: str, deliverables: list[str]
) -> list[tuple[SubmissionRow, InstanceRow]]:
    """Accepted versions of the list with no ``RECORDED`` event, oldest first: one query,
    each version looked up in the events' (campaign, subject) index."""
    subject = literal("submission:") + cast(SubmissionRow.id, String)
    recorded = select(EventRow.id).where(
        EventRow.campaign_id == campaign_id, EventRow.kind == RECORDED, EventRow.subject == subject
    )
    query = (
        select(SubmissionRow, InstanceRow)
        .join(InstanceRow, SubmissionRow.instance_id == InstanceRow.id)
        .where(
            InstanceRow.campaign_id == campaign_id,
            InstanceRow.deliverable_id.in_(deliverables),
            ~exists(recorded),
        )
        .order_by(SubmissionRow.id)
    )
    return list(session.execute(query).tuples())


def _record(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    submission: SubmissionRow,
    instance: InstanceRow,
    actor: str,
) -> ListRecorded:
    deliverable = bundle.campaign.deliverable(instance.deliverable_id)
    assert deliverable.rectification is not None  # _waiting picks such deliverables only
    rows = problem_rows(bundle.campaign, deliverable, submission.rows)
    items = items_from_rows(
        rows, deliverable.rectification, instance.unit_id,
        origin=f"submission:{submission.id}", submission_id=submission.id,
    )  # fmt: skip
    fresh = not_yet_items(session, bundle.campaign.id, instance.unit_id, items)
    recorded: list[Recorded] = create_items(session, clock, bundle.campaign.id, fresh, actor=actor)
    new = tuple(r.item.code for r in recorded if r.new)
    append_event(session, clock, RECORDED, campaign_id=bundle.campaign.id,
                 subject=f"submission:{submission.id}", actor=actor,
                 payload={"unit": instance.unit_id, "version": submission.version,
                          "items": list(new), "known": len(items) - len(fresh)})  # fmt: skip
    return ListRecorded(submission.id, instance.unit_id, new, len(items) - len(fresh))


def not_yet_items(
    session: Session, campaign_id: str, unit_id: str, items: list[NewItem]
) -> list[NewItem]:
    """The rows whose finding is not already an item of the unit (spaces aside)."""
    held = session.scalars(
        select(RectificationRow.finding).where(
            RectificationRow.campaign_id == campaign_id, RectificationRow.unit_id == unit_id
        )
    )
    known = {plain(f) for f in held}
    fresh = []
    for item in items:
        if plain(item.finding) not in known:
            known.add(plain(item.finding))
            fresh.append(item)
    return fresh
