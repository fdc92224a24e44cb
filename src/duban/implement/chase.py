"""The chase use case (催办): at a moment, send each owed duty the rung of the ladder now due.

Unit-facing rungs (reminder, final notice, overdue notice with the head in copy) are one message
per duty, keyed ``rung:<kind>:<instance>``; escalations to the coordinator (and the group bots)
are one message per deliverable period, rung and day, naming every unit concerned, keyed by
that group. Every key goes through ``dispatch``: recorded before sending, marked after, so a
second run at the same moment, or a run after a crash, sends no rung twice and misses none.
A unit that submitted (or was exempted) between two rungs gets nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer, OutboxMailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage, build
from duban.adapters.render import format_day, format_due, format_moment, render_message
from duban.ledger.schema import MessageRow
from duban.ledger.store import instance_facts
from duban.mobilize.notices import XLSX_TYPE, NoticeBuilder
from duban.model.campaign import Rung
from duban.model.ladder import DueRung, due_rung, office_open
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.status import InstanceFacts, State, due_day, state_at
from duban.sending.dispatch import DONE, Draft, Outcome, dispatch

UNIT_SIDE = frozenset({"unit", "head", "supervisor"})
OFFICE_SIDE = frozenset({"coordinator", "bots"})
RUNG_WORDS = {
    "zh-CN": {"reminder": "提醒", "final-notice": "催办", "overdue-notice": "督办",
              "escalation": "约谈"},
    "en": {"reminder": "Reminder", "final-notice": "Final notice",
           "overdue-notice": "Overdue notice", "escalation": "Escalation"},
}  # fmt: skip
STATE_WORDS = {
    "zh-CN": {"overdue": "未报送", "rejected": "退回待重报"},
    "en": {"overdue": "missing", "rejected": "returned, awaiting resubmission"},
}


@dataclass(frozen=True)
class Owed:
    """A duty still owed at the moment of the chase, and the rung due for it."""

    facts: InstanceFacts
    state: State
    due: DueRung
    unit: Unit


@dataclass(frozen=True)
class EscalationGroup:
    """The units of one deliverable period reaching the same office-side rung on one day."""

    key: str
    deliverable_id: str
    period: str
    kind: str
    day: date
    to_coordinator: bool
    to_bots: bool
    owed: tuple[Owed, ...]


@dataclass
class ChaseReport:
    as_of: datetime
    office_open: bool
    unit_messages: list[Outcome] = field(default_factory=list)
    escalations: list[Outcome] = field(default_factory=list)
    groups: list[EscalationGroup] = field(default_factory=list)
    bot_posts: list[Any] = field(default_factory=list)
    previewed: int = 0


BotPoster = Callable[[Session, Sequence[EscalationGroup]], list[Any]]


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


def chase(
    session: Session,
    bundle: CampaignBundle,
    *,
    as_of: datetime,
    mailer: Mailer,
    env: Environment,
    secret: bytes,
    clock: Any,
    post_bots: BotPoster | None = None,
    deliverable: str | None = None,
    after_each: Callable[[Outcome], None] | None = None,
    preview: Path | None = None,
) -> ChaseReport:
    """Send what is due now; with ``preview``, write it there as .eml files instead."""
    campaign = bundle.campaign
    report = ChaseReport(
        as_of, office_open(as_of, campaign.office_hours, bundle.calendar, campaign.zone)
    )
    if not report.office_open:
        return report  # quiet hours or a day off: the next run sends what is due
    owed = owed_now(session, bundle, as_of, deliverable)
    builders: dict[tuple[str, str], NoticeBuilder] = {}
    unit_drafts = [
        _unit_draft(bundle, o, env, secret, as_of, builders)
        for o in owed
        if UNIT_SIDE.intersection(o.due.rung.to)
    ]
    domain = str(campaign.roles.coordinator.email).rsplit("@", 1)[1]
    report.groups = escalation_groups(campaign.id, owed)
    office = [_escalation_draft(bundle, g, env, as_of) for g in report.groups if g.to_coordinator]
    if preview is not None:
        report.previewed = _preview(session, [*unit_drafts, *office], preview)
        return report
    report.unit_messages = dispatch(
        session, unit_drafts, mailer, clock, message_id_domain=domain, after_each=after_each
    )
    report.escalations = dispatch(
        session, office, mailer, clock, message_id_domain=domain, after_each=after_each
    )
    if post_bots is not None:
        report.bot_posts = post_bots(session, [g for g in report.groups if g.to_bots])
    return report


def _preview(session: Session, drafts: Sequence[Draft], folder: Path) -> int:
    """Write what would be sent, skipping what the ledger says was sent already."""
    done = set(
        session.scalars(
            select(MessageRow.idempotency_key).where(
                MessageRow.idempotency_key.in_([d.key for d in drafts]),
                MessageRow.status.in_(sorted(DONE)),
            )
        )
    )
    mailer = OutboxMailer(folder)
    todo = [d for d in drafts if d.key not in done]
    for number, draft in enumerate(todo, start=1):
        mailer.send(build(draft.compose(f"<preview-{number}@duban.invalid>")))
    return len(todo)


def escalation_groups(campaign_id: str, owed: Sequence[Owed]) -> list[EscalationGroup]:
    grouped: dict[tuple[str, str, str, date], list[Owed]] = {}
    for o in owed:
        if OFFICE_SIDE.intersection(o.due.rung.to):
            key = (o.facts.deliverable_id, o.facts.period, o.due.rung.kind, o.due.day)
            grouped.setdefault(key, []).append(o)
    groups = []
    for (deliverable_id, period, kind, day), members in sorted(grouped.items()):
        to = set(members[0].due.rung.to)
        groups.append(
            EscalationGroup(
                key=f"escalation:{campaign_id}:{deliverable_id}:{period}:{kind}:{day}",
                deliverable_id=deliverable_id,
                period=period,
                kind=kind,
                day=day,
                to_coordinator="coordinator" in to,
                to_bots="bots" in to,
                owed=tuple(sorted(members, key=lambda o: o.unit.id)),
            )
        )
    return groups


def late_days(bundle: CampaignBundle, facts: InstanceFacts, as_of: datetime) -> int:
    """Working days since the due day (0 before it)."""
    zone = bundle.campaign.zone
    if as_of < facts.effective_due:
        return 0
    last = due_day(facts.effective_due, zone)
    return max(0, bundle.calendar.working_days_between(last, as_of.astimezone(zone).date()))


def _unit_draft(
    bundle: CampaignBundle,
    o: Owed,
    env: Environment,
    secret: bytes,
    as_of: datetime,
    builders: dict[tuple[str, str], NoticeBuilder],
) -> Draft:
    rung = o.due.rung
    return reminder_draft(
        bundle, o.facts, o.state, o.unit, rung, env=env, secret=secret, as_of=as_of,
        builders=builders, key=f"rung:{rung.kind}:{o.facts.instance_id}", kind=rung.kind,
    )  # fmt: skip


def reminder_draft(
    bundle: CampaignBundle,
    facts: InstanceFacts,
    state: State,
    unit: Unit,
    rung: Rung,
    *,
    env: Environment,
    secret: bytes,
    as_of: datetime,
    builders: dict[tuple[str, str], NoticeBuilder],
    key: str,
    kind: str,
) -> Draft:
    """One unit's reminder email (the ``reminder`` template, worded for ``rung``, the head and
    supervisor in copy when the rung says so) with a fresh workbook, as a draft keyed ``key``;
    a ladder rung and an on-demand reminder (``duban remind``) are both made here."""
    campaign = bundle.campaign
    language = campaign.language
    deliverable = campaign.deliverable(facts.deliverable_id)
    period_key = (deliverable.id, facts.period)
    if period_key not in builders:
        builders[period_key] = NoticeBuilder(bundle, deliverable, facts.period,
                                             facts.effective_due, secret, env, as_of)  # fmt: skip
    builder = builders[period_key]
    context = {
        "unit": unit, "deliverable": deliverable, "period": facts.period, "rung": rung,
        "rung_word": RUNG_WORDS[language][rung.kind],
        "overdue": as_of >= facts.effective_due,
        "due_text": format_due(facts.effective_due, campaign.zone, language),
        "late_days": late_days(bundle, facts, as_of), "rejected": state is State.REJECTED,
        "coordinator": campaign.roles.coordinator,
        "sent_on": format_day(as_of, campaign.zone, language),
    }  # fmt: skip
    rendered = render_message(env, language, "reminder", context)
    coordinator = campaign.roles.coordinator
    sender = Address(coordinator.name, str(coordinator.email))
    cc = [e for who, e in (("head", unit.head_email), ("supervisor", unit.supervisor_email))
          if who in rung.to and e]  # fmt: skip

    def compose(message_id: str) -> OutgoingMessage:
        workbook = Attachment(builder.attachment_name(unit), builder.workbook(unit), XLSX_TYPE)
        return OutgoingMessage(
            sender=sender, to=tuple(Address(unit.name, str(e)) for e in unit.emails),
            cc=tuple(Address("", str(e)) for e in cc), subject=rendered.subject,
            text=rendered.text, html=rendered.html, attachments=(workbook,),
            message_id=message_id, date=as_of,
            headers={"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                     "X-Duban-Key": key},
        )  # fmt: skip

    recipients = (*(str(e) for e in unit.emails), *(str(e) for e in cc))
    return Draft(key, kind, campaign.id, facts.instance_id, recipients, rendered.subject,
                 compose)  # fmt: skip


def escalation_lines(
    bundle: CampaignBundle, group: EscalationGroup, as_of: datetime
) -> list[dict[str, Any]]:
    language = bundle.campaign.language
    return [
        {"name": o.unit.name, "unit_id": o.unit.id, "head": o.unit.head_email,
         "state_word": STATE_WORDS[language].get(o.state.value, o.state.value),
         "late_days": late_days(bundle, o.facts, as_of)}
        for o in group.owed
    ]  # fmt: skip


def _escalation_draft(
    bundle: CampaignBundle, group: EscalationGroup, env: Environment, as_of: datetime
) -> Draft:
    campaign = bundle.campaign
    language = campaign.language
    first = group.owed[0].facts
    context = {
        "coordinator": campaign.roles.coordinator,
        "deliverable": campaign.deliverable(group.deliverable_id), "period": group.period,
        "due_text": format_due(first.effective_due, campaign.zone, language),
        "as_of_text": format_moment(as_of, campaign.zone, language),
        "units": escalation_lines(bundle, group, as_of),
    }  # fmt: skip
    rendered = render_message(env, language, "escalation", context)
    coordinator = campaign.roles.coordinator
    office = Address(coordinator.name, str(coordinator.email))

    def compose(message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            sender=office, to=(office,), subject=rendered.subject, text=rendered.text,
            html=rendered.html, message_id=message_id, date=as_of,
            headers={"Auto-Submitted": "auto-generated", "X-Duban-Key": group.key},
        )  # fmt: skip

    return Draft(group.key, "escalation", campaign.id, None, (str(coordinator.email),),
                 rendered.subject, compose)  # fmt: skip
