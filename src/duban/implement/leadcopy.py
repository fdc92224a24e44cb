"""The lead's consolidated copy (牵头汇总): its template with the partners' parts in it, sent
when every partner has reported or on the partners' due day, and again when a part changes.

Each copy is a message keyed by the lead's duty and a digest of the parts it holds
(``PartFill.digest``): the same parts are never sent twice, whichever run (chase, cron and a
manual run at once) gets there first; a correction accepted from a partner makes a new digest,
so a fresh copy. A lead that has already reported gets one only when a part was accepted after
its report, so past periods stay quiet. The message names the partners reported and those
late, so the lead knows whom to press (the office sees the same in ``duban status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_day, format_due, render_message
from duban.implement.parts import Chain, chains, led, partners_of
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.mobilize.notices import XLSX_TYPE, NoticeBuilder, with_items
from duban.mobilize.partfill import PartFill
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import Draft

KIND = "lead-copy"


@dataclass(frozen=True)
class Part:
    """One partner's part of a period, as the ledger has it now."""

    unit_id: str
    due_at: datetime
    first_in: datetime | None
    last_in: datetime | None

    def late(self, now: datetime) -> bool:
        return self.first_in is None and now >= self.due_at


@dataclass(frozen=True)
class LeadDuty:
    """A lead's duty of a chain period, its partners' parts and its own last report."""

    instance: InstanceRow
    parts: tuple[Part, ...]
    reported_at: datetime | None

    def due_now(self, now: datetime) -> bool:
        """Every partner in, or the partners' due day come; and, if the lead has reported,
        a part accepted since. With no part in at all, only until the lead's own due day: a
        copy then tells the lead whom to press; after it, there is nothing to consolidate
        and the ladder's reminders go on (no copies of old periods nobody answered)."""
        if not self.parts:
            return False
        ready = all(p.first_in for p in self.parts) or now >= min(p.due_at for p in self.parts)
        newest = max((p.last_in for p in self.parts if p.last_in), default=None)
        if newest is None and now >= self.instance.effective_due:
            return False
        changed = self.reported_at is None or (newest is not None and newest > self.reported_at)
        return ready and changed


ChainDuties = list[tuple[Chain, dict[str, list[LeadDuty]]]]
"""Each chain with its open lead duties by period (``lead_duties``)."""


def lead_duties(session: Session, bundle: CampaignBundle) -> ChainDuties:
    """Every chain's open lead duties with their partners' parts, read once for a run's
    copies and reminders: two queries a chain."""
    return [(chain, _duties(session, bundle, chain)) for chain in chains(bundle.campaign)]


def lead_copy_drafts(
    session: Session,
    bundle: CampaignBundle,
    read: ChainDuties,
    *,
    now: datetime,
    env: Environment,
    secret: bytes,
    deliverable: str | None = None,
) -> list[Draft]:
    """The copies due now, one per lead duty whose parts changed since its last copy; with
    ``deliverable``, only for its chain (the lead's or the partners' deliverable id)."""
    drafts: list[Draft] = []
    for chain, by_period in read:
        if deliverable is not None and deliverable not in (chain.lead.id, chain.parts.id):
            continue
        for period, duties in by_period.items():
            due = [d for d in duties if d.due_now(now)]
            if due:
                drafts += _drafts(session, bundle, chain, period, due, now, env, secret)
    return drafts


def late_partners(bundle: CampaignBundle, read: ChainDuties, now: datetime) -> dict[int, list[str]]:
    """Lead duty (instance id) → the names of its partners whose parts are late now, for the
    lead's reminders: whom to press."""
    found: dict[int, list[str]] = {}
    for _chain, by_period in read:
        for duties in by_period.values():
            for duty in duties:
                late = [bundle.units_by_id[p.unit_id].name for p in duty.parts if p.late(now)]
                if late:
                    found[duty.instance.id] = late
    return found


def _duties(session: Session, bundle: CampaignBundle, chain: Chain) -> dict[str, list[LeadDuty]]:
    """Each period's open lead duties with their partners' parts: two queries."""
    mine = (InstanceRow.campaign_id == bundle.campaign.id,
            InstanceRow.deliverable_id.in_([chain.lead.id, chain.parts.id]),
            InstanceRow.withdrawn.is_(False), InstanceRow.exempt.is_(False))  # fmt: skip
    last = (select(SubmissionRow.instance_id, func.min(SubmissionRow.received_at),
                   func.max(SubmissionRow.received_at))
            .where(SubmissionRow.instance_id.in_(select(InstanceRow.id).where(*mine)))
            .group_by(SubmissionRow.instance_id))  # fmt: skip
    received = {i: (first, latest) for i, first, latest in session.execute(last)}
    query = select(InstanceRow).where(*mine).order_by(InstanceRow.period, InstanceRow.unit_id)
    rows = session.scalars(query).all()
    nothing = (None, None)
    parts = {(r.period, r.unit_id): Part(r.unit_id, r.effective_due, *received.get(r.id, nothing))
             for r in rows if r.deliverable_id == chain.parts.id}  # fmt: skip
    found: dict[str, list[LeadDuty]] = {}
    for row in rows:
        if row.deliverable_id != chain.lead.id:
            continue
        partners = partners_of(bundle.campaign, chain, row.unit_id)
        theirs = tuple(parts[(row.period, p)] for p in partners if (row.period, p) in parts)
        reported = received.get(row.id, nothing)[1]
        found.setdefault(row.period, []).append(LeadDuty(row, theirs, reported))
    return found


def _drafts(
    session: Session,
    bundle: CampaignBundle,
    chain: Chain,
    period: str,
    duties: Sequence[LeadDuty],
    now: datetime,
    env: Environment,
    secret: bytes,
) -> list[Draft]:
    first = duties[0].instance
    builder = NoticeBuilder(bundle, chain.lead, period, first.effective_due, secret, env, now)
    with_items(builder, session, [d.instance.unit_id for d in duties], strict=False)
    fill = builder.prefill
    assert isinstance(fill, PartFill)
    return [_draft(bundle, chain, builder, fill, duty, now) for duty in duties]


def _draft(
    bundle: CampaignBundle,
    chain: Chain,
    builder: NoticeBuilder,
    fill: PartFill,
    duty: LeadDuty,
    now: datetime,
) -> Draft:
    campaign = bundle.campaign
    instance = duty.instance
    unit = bundle.units_by_id[instance.unit_id]
    key = (f"{KIND}:{campaign.id}:{instance.deliverable_id}:{instance.period}:{unit.id}:"
           f"{fill.digest(unit.id)}")  # fmt: skip
    rendered = render_message(builder.env, campaign.language, KIND,
                              _context(bundle, chain, builder, duty, now))  # fmt: skip
    coordinator = campaign.roles.coordinator

    def compose(message_id: str) -> OutgoingMessage:
        workbook = Attachment(builder.attachment_name(unit), builder.workbook(unit), XLSX_TYPE)
        return OutgoingMessage(
            sender=Address(coordinator.name, str(coordinator.email)),
            to=tuple(Address(unit.name, str(e)) for e in unit.emails),
            subject=rendered.subject, text=rendered.text, html=rendered.html,
            attachments=(workbook,), message_id=message_id, date=now,
            headers={"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                     "X-Duban-Key": key},
        )  # fmt: skip

    recipients = tuple(str(e) for e in unit.emails)
    return Draft(key, KIND, campaign.id, instance.id, recipients, rendered.subject, compose)


def _context(
    bundle: CampaignBundle, chain: Chain, builder: NoticeBuilder, duty: LeadDuty, now: datetime
) -> dict[str, Any]:
    campaign = bundle.campaign
    language = campaign.language
    unit_id = duty.instance.unit_id
    tasks = {t.id: t for t in led(campaign, chain, unit_id)}

    def line(part: Part) -> dict[str, Any]:
        titles = [t.title for t in tasks.values() if part.unit_id in t.partners]
        return {"name": bundle.units_by_id[part.unit_id].name, "tasks": titles,
                "due_text": format_due(part.due_at, campaign.zone, language)}  # fmt: skip

    return {
        "unit": bundle.units_by_id[unit_id], "deliverable": chain.lead,
        "period": duty.instance.period, "coordinator": campaign.roles.coordinator,
        "due_text": format_due(duty.instance.effective_due, campaign.zone, language),
        "reported": [line(p) for p in duty.parts if p.first_in is not None],
        "late": [line(p) for p in duty.parts if p.late(now)],
        "waiting": [line(p) for p in duty.parts if p.first_in is None and not p.late(now)],
        "corrected": duty.reported_at is not None,
        "attachment_name": builder.attachment_name(bundle.units_by_id[unit_id]),
        "sent_on": format_day(now, campaign.zone, language),
    }  # fmt: skip
