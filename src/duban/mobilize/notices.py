"""Mobilize: the notice each assigned unit receives, with its own workbook attached.

The master workbook is built once per deliverable and period and personalised per unit by
patching (``xlsx.template``); each unit's file is read back and its token checked before the
notice may go out. The same drafts feed a real send (``dispatch``), a dry run (``.eml`` files in
the outbox) and the approval digest, so what the coordinator previews is what is sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_day, format_due, render_bodies, render_subject
from duban.adapters.xlsx.template import (
    MasterTemplate,
    TemplateContext,
    build_master,
    read_metadata,
)
from duban.adapters.xlsx.token import TemplateIdentity, sign, verify
from duban.errors import DubanError
from duban.implement.parts import chain_of
from duban.ledger.schema import InstanceRow
from duban.mobilize.partfill import PartFill
from duban.mobilize.prefill import ItemPrefill, Prefill
from duban.model.campaign import Deliverable
from duban.model.forms import display_title
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.sending.dispatch import Draft

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class NothingToSend(DubanError):  # noqa: N818 (a situation, not a failure)
    """The request selects no duty: wrong deliverable, period or unit ids."""


def notice_key(campaign_id: str, instance: InstanceRow) -> str:
    return f"notice:{campaign_id}:{instance.deliverable_id}:{instance.period}:{instance.unit_id}"


def select_instances(
    session: Session,
    bundle: CampaignBundle,
    deliverable_id: str,
    *,
    period: str | None,
    unit_ids: Sequence[str] | None,
    now: datetime,
) -> list[InstanceRow]:
    """The duties to notify; by default those of the next period not yet due."""
    campaign = bundle.campaign
    campaign.deliverable(deliverable_id)  # a mistyped id is named, with the campaign's ids
    for unit_id in unit_ids or ():
        bundle.unit(unit_id)
    rows = list(
        session.scalars(
            select(InstanceRow)
            .where(
                InstanceRow.campaign_id == campaign.id,
                InstanceRow.deliverable_id == deliverable_id,
                InstanceRow.withdrawn.is_(False),
                InstanceRow.exempt.is_(False),
            )
            .order_by(InstanceRow.due_at, InstanceRow.unit_id)
        )
    )
    if not rows:
        raise NothingToSend(
            f"the ledger has no duties for {deliverable_id!r}",
            hint="run `duban init CAMPAIGN.yaml` first",
            zh=f"台账中没有报送事项“{deliverable_id}”的报送任务",
            zh_hint="请先运行 `duban init CAMPAIGN.yaml`",
        )
    chosen = period or _next_period(rows, now)
    selected = [r for r in rows if r.period == chosen]
    if unit_ids:
        unknown = sorted(set(unit_ids) - {r.unit_id for r in selected})
        if unknown:
            raise NothingToSend(
                f"{', '.join(unknown)} owe no {deliverable_id} for {chosen}",
                zh=f"单位 {'、'.join(unknown)} 在期次“{chosen}”没有报送事项"
                f"“{deliverable_id}”的报送任务",
            )
        selected = [r for r in selected if r.unit_id in set(unit_ids)]
    if not selected:
        periods = sorted({r.period for r in rows})
        raise NothingToSend(
            f"no {deliverable_id} duties for period {chosen!r}",
            hint=f"periods: {periods}",
            zh=f"报送事项“{deliverable_id}”没有期次“{chosen}”的报送任务",
            zh_hint=f"现有期次：{'、'.join(periods)}",
        )
    return selected


def _next_period(rows: Sequence[InstanceRow], now: datetime) -> str:
    upcoming = [r for r in rows if r.due_at > now]
    if not upcoming:
        raise NothingToSend(
            "every period of this deliverable is past due",
            hint="name the period to notify with --period",
            zh="该报送事项的各期次都已过截止时间",
            zh_hint="请用 --period 指定要通知的期次",
        )
    return min(upcoming, key=lambda r: r.due_at).period


@dataclass
class NoticeBuilder:
    """Everything a notice needs that is the same for every unit of one deliverable period."""

    bundle: CampaignBundle
    deliverable: Deliverable
    period: str
    due_at: datetime
    secret: bytes
    env: Environment
    now: datetime
    prefill: Prefill | None = None
    """For a progress report on rectification items, the unit's open items; for a key task
    chain, the partner's tasks or the lead's partners' parts: written into its workbook
    (``with_items``; the notice, a rejection's answer, chase and remind)."""
    bodies_checked: bool = False
    """The bodies were rendered once, for the first draft: the templates work."""

    @property
    def language(self) -> str:
        return self.bundle.campaign.language

    @cached_property
    def due_text(self) -> str:
        campaign = self.bundle.campaign
        return format_due(self.due_at, campaign.zone, campaign.language)

    @cached_property
    def master(self) -> MasterTemplate:
        campaign = self.bundle.campaign
        coordinator = campaign.roles.coordinator
        form = campaign.form_of(self.deliverable)
        context = TemplateContext(
            language=campaign.language,
            campaign_id=campaign.id,
            campaign_title=display_title(campaign.title, campaign.language),
            deliverable_id=self.deliverable.id,
            deliverable_title=self.deliverable.title,
            period=self.period,
            due_text=self.due_text,
            coordinator_name=coordinator.name,
            coordinator_email=str(coordinator.email),
            coordinator_phone=coordinator.phone,
            template_version=form.version,
        )
        return MasterTemplate(build_master(form, context))

    def identity(self, unit: Unit) -> TemplateIdentity:
        form = self.bundle.campaign.form_of(self.deliverable)
        return TemplateIdentity(
            campaign_id=self.bundle.campaign.id,
            deliverable_id=self.deliverable.id,
            period=self.period,
            unit_id=unit.id,
            template_version=form.version,
        )

    def attachment_name(self, unit: Unit) -> str:
        period = [] if self.period == "once" else [self.period]
        parts = [self.deliverable.title, *period, unit.name]
        return _UNSAFE_IN_FILENAMES.sub("_", "-".join(parts)) + ".xlsx"

    def workbook(self, unit: Unit) -> bytes:
        """The unit's own workbook, read back and checked before it may be attached."""
        identity = self.identity(unit)
        token = sign(self.secret, identity)
        data = self.master.personalise(unit.id, unit.name, token)
        if self.prefill is not None:
            data = self.prefill.fill(data, unit.id)
        meta = read_metadata(data)
        token_ok = verify(self.secret, identity, meta.get("token", ""))
        if meta.get("unit_id") != unit.id or not token_ok:
            raise DubanError(
                f"the workbook made for {unit.name} ({unit.id}) failed its check",
                zh=f"为{unit.name}（{unit.id}）生成的工作簿未通过校验",
            )
        return data

    def draft(self, instance: InstanceRow) -> Draft:
        """The unit's notice: its subject now (the intent records it), its bodies and workbook
        when it is composed, in the process that builds it (``sending.ahead``): rendering every
        body here, once to plan and again to send, took the sending process 0.7 ms a notice."""
        unit = self.bundle.units_by_id[instance.unit_id]
        campaign = self.bundle.campaign
        coordinator = campaign.roles.coordinator
        sender = Address(coordinator.name, str(coordinator.email))
        context: dict[str, object] = {
            "campaign": campaign,
            "deliverable": self.deliverable,
            "unit": unit,
            "period": self.period,
            "due_text": self.due_text,
            "attachment_name": self.attachment_name(unit),
            "coordinator": coordinator,
            "sent_on": format_day(self.now, campaign.zone, campaign.language),
        }
        subject = render_subject(self.env, campaign.language, "notice", context)
        if not self.bodies_checked:  # a template's error stops the plan, not the sending
            render_bodies(self.env, campaign.language, "notice", context)
            self.bodies_checked = True

        def compose(message_id: str) -> OutgoingMessage:
            text, html = render_bodies(self.env, campaign.language, "notice", context)
            attachment = Attachment(self.attachment_name(unit), self.workbook(unit), XLSX_TYPE)
            return OutgoingMessage(
                sender=sender,
                to=tuple(Address(unit.name, str(e)) for e in unit.emails),
                subject=subject,
                text=text,
                html=html,
                attachments=(attachment,),
                message_id=message_id,
                date=self.now,
                headers={
                    "Reply-To": str(coordinator.email),
                    # Asks auto-responders (out of office) not to answer into the intake.
                    "Auto-Submitted": "auto-generated",
                    "X-Duban-Key": notice_key(campaign.id, instance),
                },
            )

        return Draft(
            key=notice_key(campaign.id, instance),
            kind="notice",
            campaign_id=campaign.id,
            instance_id=instance.id,
            recipients=tuple(str(e) for e in unit.emails),
            subject=subject,
            compose=compose,
        )


Builders = dict[tuple[str, str], NoticeBuilder]
"""Notice builders by deliverable and period: one master workbook each."""


def with_items(
    builder: NoticeBuilder, session: Session, unit_ids: Sequence[str], *, strict: bool = True
) -> None:
    """Make ``builder``'s workbooks carry each unit's open items when its deliverable reports
    on them (``rectification_progress``), or its key tasks and partners' parts in a key task
    chain (``partfill``); what ``unit_ids`` need is read now, in one query, so the drafts hold
    the ledger as it stood when they were made. Not ``strict`` (a reminder), a unit with more
    rows than the sheet holds gets the form without them rather than stopping the run."""
    if builder.prefill is None:
        builder.prefill = _prefill_of(builder)
        if builder.prefill is None:
            return
    builder.prefill.load(session, unit_ids, strict=strict)


def _prefill_of(builder: NoticeBuilder) -> Prefill | None:
    campaign, deliverable = builder.bundle.campaign, builder.deliverable
    if deliverable.rectification_progress is not None:
        return ItemPrefill(campaign, deliverable)
    chain = chain_of(campaign, deliverable)
    if chain is not None:
        return PartFill(builder.bundle, chain, deliverable.id, builder.period)
    return None


def notice_drafts(
    bundle: CampaignBundle,
    instances: Sequence[InstanceRow],
    *,
    secret: bytes,
    env: Environment,
    now: datetime,
    builders: Builders | None = None,
    session: Session | None = None,
) -> list[Draft]:
    """A draft for each duty, one builder (one master workbook) per deliverable period, kept
    in ``builders`` when given, so later drafts of the same run reuse it (chase, remind). With
    ``session``, a progress report's workbooks are pre-filled with each unit's open items
    (``with_items``)."""
    builders = {} if builders is None else builders
    by_period: dict[tuple[str, str], list[str]] = {}
    for instance in instances:
        key = (instance.deliverable_id, instance.period)
        by_period.setdefault(key, []).append(instance.unit_id)
        if key not in builders:
            deliverable = bundle.campaign.deliverable(instance.deliverable_id)
            builders[key] = NoticeBuilder(
                bundle, deliverable, instance.period, instance.effective_due, secret, env, now
            )
    if session is not None:
        for key, unit_ids in by_period.items():
            with_items(builders[key], session, unit_ids)
    return [builders[(i.deliverable_id, i.period)].draft(i) for i in instances]


def drafts_digest(drafts: Sequence[Draft]) -> str:
    """What an approval approves: every key, recipient list and subject."""
    digest = hashlib.sha256()
    for draft in sorted(drafts, key=lambda d: d.key):
        digest.update("\x1f".join([draft.key, *draft.recipients, draft.subject]).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()
