"""The mobilize use case: plan the notices, preview them, approve them, send them.

Each step is a plain function over a session, the loaded campaign and what it needs passed in
(a mailer, a clock, the token secret, the templates), so the Prefect flow only sequences them
and the tests call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer, OutboxMailer
from duban.adapters.mail.message import build
from duban.clock import Clock
from duban.ledger.schema import EventRow, InstanceRow
from duban.ledger.store import append_event
from duban.mobilize.notices import drafts_digest, notice_drafts, select_instances
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import Outcome, dispatch

APPROVED = "notices.approved"


@dataclass(frozen=True)
class NoticePlan:
    """Which duties to notify, and whether the coordinator has approved exactly these."""

    campaign_id: str
    deliverable_id: str
    period: str
    instance_ids: tuple[int, ...]
    digest: str
    needs_approval: bool
    approved: bool

    @property
    def may_send(self) -> bool:
        return self.approved or not self.needs_approval


@dataclass(frozen=True)
class NoticeRequest:
    deliverable_id: str
    period: str | None = None
    unit_ids: tuple[str, ...] | None = None


def plan_notices(
    session: Session,
    bundle: CampaignBundle,
    request: NoticeRequest,
    *,
    clock: Clock,
    secret: bytes,
    env: Environment,
) -> NoticePlan:
    now = clock.now()
    instances = select_instances(
        session, bundle, request.deliverable_id,
        period=request.period, unit_ids=request.unit_ids, now=now,
    )  # fmt: skip
    drafts = notice_drafts(bundle, instances, secret=secret, env=env, now=now, session=session)
    digest = drafts_digest(drafts)
    period = instances[0].period
    return NoticePlan(
        campaign_id=bundle.campaign.id,
        deliverable_id=request.deliverable_id,
        period=period,
        instance_ids=tuple(i.id for i in instances),
        digest=digest,
        needs_approval=bundle.campaign.approval,
        approved=_approved(session, bundle.campaign.id, request.deliverable_id, period, digest),
    )


def instances_by_id(session: Session, ids: Sequence[int]) -> list[InstanceRow]:
    rows = session.scalars(select(InstanceRow).where(InstanceRow.id.in_(ids))).all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids]


def send_notices(
    session: Session,
    bundle: CampaignBundle,
    instance_ids: Sequence[int],
    *,
    mailer: Mailer,
    clock: Clock,
    secret: bytes,
    env: Environment,
    after_each: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Send the notices of these duties; those sent before are skipped."""
    drafts = notice_drafts(
        bundle, instances_by_id(session, instance_ids), secret=secret, env=env,
        now=clock.now(), session=session,
    )  # fmt: skip
    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    return dispatch(session, drafts, mailer, clock, message_id_domain=domain, after_each=after_each)


def preview_notices(
    session: Session,
    bundle: CampaignBundle,
    plan: NoticePlan,
    *,
    outbox: Path,
    clock: Clock,
    secret: bytes,
    env: Environment,
) -> Path:
    """Write every notice of the plan as an .eml file; nothing is sent or marked sent."""
    folder = outbox / f"{plan.deliverable_id}-{plan.period}-{plan.digest[:8]}"
    mailer = OutboxMailer(folder)
    drafts = notice_drafts(
        bundle, instances_by_id(session, plan.instance_ids), secret=secret, env=env,
        now=clock.now(), session=session,
    )  # fmt: skip
    for number, draft in enumerate(drafts, start=1):
        mailer.send(build(draft.compose(f"<preview-{number}-{plan.digest[:12]}@duban.invalid>")))
    append_event(
        session, clock, "notices.previewed", campaign_id=plan.campaign_id,
        subject=f"{plan.deliverable_id}/{plan.period}",
        payload={"digest": plan.digest, "count": len(drafts), "folder": str(folder)},
    )  # fmt: skip
    return folder


def approve_notices(session: Session, plan: NoticePlan, *, clock: Clock, actor: str) -> None:
    """Record the coordinator's approval of exactly this plan (its digest)."""
    append_event(
        session, clock, APPROVED, campaign_id=plan.campaign_id,
        subject=f"{plan.deliverable_id}/{plan.period}", actor=actor,
        payload={"digest": plan.digest, "count": len(plan.instance_ids)},
    )  # fmt: skip


def _approved(
    session: Session, campaign_id: str, deliverable_id: str, period: str, digest: str
) -> bool:
    payloads = session.scalars(
        select(EventRow.payload).where(
            EventRow.campaign_id == campaign_id,
            EventRow.kind == APPROVED,
            EventRow.subject == f"{deliverable_id}/{period}",
        )
    )
    return any(p.get("digest") == digest for p in payloads)
