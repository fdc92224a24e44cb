"""Extensions (延期) and exemptions (免报): granted by the coordinator, with a reason, recorded.

Both change how a duty is judged and chased, never the history: the calendar due time stays
in the ledger beside the extension, and each grant is an event in the audit trail.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.schema import InstanceRow
from duban.ledger.store import append_event
from duban.model.loader import CampaignBundle


def find_duty(
    session: Session,
    bundle: CampaignBundle,
    deliverable_id: str,
    unit_id: str,
    period: str | None,
) -> InstanceRow:
    bundle.campaign.deliverable(deliverable_id)  # mistyped ids are named first
    bundle.unit(unit_id)
    rows = list(
        session.scalars(
            select(InstanceRow).where(
                InstanceRow.campaign_id == bundle.campaign.id,
                InstanceRow.deliverable_id == deliverable_id,
                InstanceRow.unit_id == unit_id,
                InstanceRow.withdrawn.is_(False),
            )
        )
    )
    if period is not None:
        rows = [r for r in rows if r.period == period]
    if len(rows) != 1:
        periods = sorted(r.period for r in rows)
        what = f"{unit_id} owes {len(rows)} {deliverable_id} duties" + (
            f" ({', '.join(periods)})" if periods else ""
        )
        owed = f"期次“{period}”的" if period is not None else "的"
        zh = (
            f"单位 {unit_id} 在报送事项“{deliverable_id}”下有 {len(rows)} 项报送任务"
            f"（期次：{'、'.join(periods)}）"
            if rows
            else f"单位 {unit_id} 没有报送事项“{deliverable_id}”{owed}报送任务"
        )
        raise DubanError(
            what,
            hint="name exactly one with --deliverable, --unit and --period",
            zh=zh,
            zh_hint="请用 --deliverable、--unit 和 --period 指定唯一的一项",
        )
    return rows[0]


def end_of_day(day: date, bundle: CampaignBundle) -> datetime:
    """A new due day counts whole, like every due day."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=bundle.campaign.zone)


def extend(
    session: Session,
    bundle: CampaignBundle,
    duty: InstanceRow,
    until: date,
    *,
    reason: str,
    actor: str,
    clock: Clock,
) -> None:
    if not reason.strip():
        raise DubanError(
            "an extension needs a reason",
            hint="add --reason",
            zh="延期须写明理由",
            zh_hint="请加上 --reason",
        )
    new_due = end_of_day(until, bundle)
    if new_due <= duty.due_at:
        raise DubanError(
            f"{until} is not after the due day {duty.due_date}",
            zh=f"新的截止日 {until} 应晚于原截止日 {duty.due_date}",
        )
    duty.extended_to = new_due
    append_event(
        session, clock, "duty.extended", campaign_id=duty.campaign_id,
        subject=f"{duty.deliverable_id}/{duty.period}/{duty.unit_id}", actor=actor,
        payload={"until": until.isoformat(), "reason": reason},
    )  # fmt: skip


def exempt(session: Session, duty: InstanceRow, *, reason: str, actor: str, clock: Clock) -> None:
    if not reason.strip():
        raise DubanError(
            "an exemption needs a reason",
            hint="add --reason",
            zh="免报须写明理由",
            zh_hint="请加上 --reason",
        )
    duty.exempt = True
    duty.note = reason
    append_event(
        session, clock, "duty.exempted", campaign_id=duty.campaign_id,
        subject=f"{duty.deliverable_id}/{duty.period}/{duty.unit_id}", actor=actor,
        payload={"reason": reason},
    )  # fmt: skip
