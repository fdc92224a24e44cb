"""The chase use case (催办): at a moment, send each owed duty and rectification item the rung of
the ladder now due.

Unit-facing rungs (reminder, final notice, overdue notice with the head in copy) go out as one
message per unit and day, naming every duty and item the unit owes with a rung due and not sent
yet (see ``unit_day``: keyed ``chase:<campaign>:<unit>:<day>``, each rung it names recorded as
covered). Escalations to the coordinator (and the group bots) are one message per deliverable
period, rung and day, naming every unit concerned, keyed by that group; the items' escalations
one message per rung and day, naming every item concerned. Every key goes through
``dispatch``: recorded before sending, claimed by one run, marked after, so a second run at the
same moment, or a run after a crash, sends nothing twice and misses nothing. A unit that
submitted (or was exempted) between two rungs gets nothing more for that duty; an item claimed
complete, closed or cancelled gets nothing more either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer, OutboxMailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage, build
from duban.adapters.render import (
    Rendered,
    format_day,
    format_due,
    format_moment,
    render_message,
)
from duban.implement.leadcopy import late_partners, lead_copy_drafts, lead_duties
from duban.implement.owed import Owed, OwedItem, items_owed_now, owed_now
from duban.implement.unit_day import (
    UNIT_SIDE,
    UnitDay,
    covered_among,
    record_covered,
    unit_days,
)
from duban.ledger.schema import MessageRow
from duban.mobilize.notices import XLSX_TYPE, NoticeBuilder, with_items
from duban.model.campaign import Campaign, Language, Rung
from duban.model.ladder import office_open
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.status import InstanceFacts, State, due_day
from duban.sending.dispatch import DONE, Draft, Outcome, dispatch

__all__ = ["UNIT_SIDE", "ChaseReport", "EscalationGroup", "Owed", "chase", "owed_now"]

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
FINDING_WIDTH = 30
"""Characters of an item's finding a reminder's table shows (the code names the rest)."""


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


@dataclass(frozen=True)
class ItemEscalation:
    """The rectification items reaching the same office-side rung on one day (all units)."""

    key: str
    kind: str
    day: date
    to_coordinator: bool
    to_bots: bool
    items: tuple[OwedItem, ...]


@dataclass
class ChaseReport:
    as_of: datetime
    office_open: bool
    unit_messages: list[Outcome] = field(default_factory=list)
    escalations: list[Outcome] = field(default_factory=list)
    groups: list[EscalationGroup] = field(default_factory=list)
    bot_posts: list[Any] = field(default_factory=list)
    previewed: int = 0
    unit_days: list[UnitDay] = field(default_factory=list)
    item_escalations: list[ItemEscalation] = field(default_factory=list)
    lead_copies: list[Outcome] = field(default_factory=list)
    """Leads' consolidated copies of their partners' parts (``leadcopy``)."""

    def sent_by_rung(self) -> dict[str, int]:
        """Unit messages sent now, by the highest rung each named."""
        kinds = {u.key: u.top.kind for u in self.unit_days}
        counts: dict[str, int] = {}
        for outcome in self.unit_messages:
            if outcome.sent_now:
                kind = kinds[outcome.key]
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def items_named(self) -> int:
        """Rectification items named in the unit messages sent now."""
        items = {u.key: len(u.items) for u in self.unit_days}
        return sum(items[o.key] for o in self.unit_messages if o.sent_now)


BotPoster = Callable[[Session, Sequence[EscalationGroup | ItemEscalation]], list[Any]]


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
    """Send what is due now; with ``preview``, write it there as .eml files instead.

    With ``deliverable``, only that deliverable's duties and the items its problem lists
    created are chased; a unit's message of the day then names only those, and the rest wait
    for tomorrow's (one message a unit a day, see ``unit_day``).
    """
    campaign = bundle.campaign
    report = ChaseReport(
        as_of, office_open(as_of, campaign.office_hours, bundle.calendar, campaign.zone)
    )
    if not report.office_open:
        return report  # quiet hours or a day off: the next run sends what is due
    owed = owed_now(session, bundle, as_of, deliverable)
    items = items_owed_now(session, bundle, as_of, deliverable)
    day = as_of.astimezone(campaign.zone).date()
    candidates = [o.cover_key for o in owed] + [i.cover_key for i in items]
    covered = covered_among(session, campaign.id, candidates)
    report.unit_days = unit_days(campaign.id, day, owed, items, covered)
    builders: dict[tuple[str, str], NoticeBuilder] = {}
    duties = [(o.facts, u.unit.id) for u in report.unit_days for o in u.duties]
    with_open_items(session, bundle, duties, secret=secret, env=env, as_of=as_of,
                    builders=builders)  # fmt: skip
    chained = lead_duties(session, bundle)
    pressing = late_partners(bundle, chained, as_of)
    unit_drafts = [unit_day_draft(bundle, u, env=env, secret=secret, as_of=as_of,
                                  builders=builders, late_partners=pressing)
                   for u in report.unit_days]  # fmt: skip
    domain = str(campaign.roles.coordinator.email).rsplit("@", 1)[1]
    report.groups = escalation_groups(campaign.id, owed)
    report.item_escalations = item_escalations(campaign.id, items)
    office = [_escalation_draft(bundle, g, env, as_of) for g in report.groups if g.to_coordinator]
    office += [_item_escalation_draft(bundle, g, env, as_of)
               for g in report.item_escalations if g.to_coordinator]  # fmt: skip
    copies = lead_copy_drafts(session, bundle, chained, now=as_of, env=env, secret=secret,
                              deliverable=deliverable)  # fmt: skip
    if preview is not None:
        report.previewed = _preview(session, [*unit_drafts, *office, *copies], preview)
        return report
    by_key = {u.key: u for u in report.unit_days}

    def covered_then(outcome: Outcome) -> None:
        record_covered(session, clock, campaign.id, by_key[outcome.key], outcome)
        if after_each is not None:
            after_each(outcome)

    report.unit_messages = dispatch(
        session, unit_drafts, mailer, clock, message_id_domain=domain, after_each=covered_then
    )
    report.escalations = dispatch(
        session, office, mailer, clock, message_id_domain=domain, after_each=after_each
    )
    report.lead_copies = dispatch(
        session, copies, mailer, clock, message_id_domain=domain, after_each=after_each
    )
    if post_bots is not None:
        groups: list[EscalationGroup | ItemEscalation] = [*report.groups, *report.item_escalations]
        report.bot_posts = post_bots(session, [g for g in groups if g.to_bots])
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
    late_partners: Sequence[str] = (),
) -> Draft:
    """One unit's reminder email (the ``reminder`` template, worded for ``rung``, the head and
    supervisor in copy when the rung says so) with a fresh workbook, as a draft keyed ``key``;
    a ladder rung and an on-demand reminder (``duban remind``) are both made here. The
    workbook carries the unit's open items if ``with_open_items`` loaded them first; a lead's
    names its ``late_partners``."""
    campaign = bundle.campaign
    language = campaign.language
    deliverable = campaign.deliverable(facts.deliverable_id)
    builder = _builder(bundle, facts, secret, env, as_of, builders)
    context = {
        "unit": unit, "deliverable": deliverable, "period": facts.period, "rung": rung,
        "rung_word": RUNG_WORDS[language][rung.kind],
        "overdue": as_of >= facts.effective_due,
        "due_text": format_due(facts.effective_due, campaign.zone, language),
        "late_days": late_days(bundle, facts, as_of), "rejected": state is State.REJECTED,
        "coordinator": campaign.roles.coordinator, "late_partners": list(late_partners),
        "sent_on": format_day(as_of, campaign.zone, language),
    }  # fmt: skip
    rendered = render_message(env, language, "reminder", context)
    coordinator = campaign.roles.coordinator
    sender = Address(coordinator.name, str(coordinator.email))
    cc = _copied(unit, rung)

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


def unit_day_draft(
    bundle: CampaignBundle,
    message: UnitDay,
    *,
    env: Environment,
    secret: bytes,
    as_of: datetime,
    builders: dict[tuple[str, str], NoticeBuilder],
    late_partners: Mapping[int, list[str]] | None = None,
) -> Draft:
    """A unit's one message of the day (the ``chase`` template): each duty worded for its own
    rung with a fresh workbook attached (a lead's naming its partners late, from
    ``late_partners``: duty → names), then its items as a table (code, finding shortened,
    deadline, working days overdue); named and copied as its highest rung says."""
    campaign = bundle.campaign
    language = campaign.language
    unit, top = message.unit, message.top
    pressing = late_partners or {}
    duties = [{**_duty_line(bundle, o, as_of),
               "late_partners": pressing.get(o.facts.instance_id or -1)}  # -1: no ledger row
              for o in message.duties]  # fmt: skip
    items = [_item_line(i, language) for i in message.items]
    context = {
        "unit": unit, "rung": top, "rung_word": RUNG_WORDS[language][top.kind],
        "duties": duties, "items": items,
        "overdue": any(d["overdue"] for d in duties),
        "items_overdue": sum(1 for i in items if i["late_days"] > 0),
        "coordinator": campaign.roles.coordinator,
        "sent_on": format_day(as_of, campaign.zone, language),
    }  # fmt: skip
    rendered = render_message(env, language, "chase", context)
    coordinator = campaign.roles.coordinator
    sender = Address(coordinator.name, str(coordinator.email))
    cc = _copied(unit, top)
    books = [_builder(bundle, o.facts, secret, env, as_of, builders) for o in message.duties]
    covers = " ".join(message.covers)

    def compose(message_id: str) -> OutgoingMessage:
        attachments = tuple(
            Attachment(b.attachment_name(unit), b.workbook(unit), XLSX_TYPE) for b in books
        )
        return OutgoingMessage(
            sender=sender, to=tuple(Address(unit.name, str(e)) for e in unit.emails),
            cc=tuple(Address("", str(e)) for e in cc), subject=rendered.subject,
            text=rendered.text, html=rendered.html, attachments=attachments,
            message_id=message_id, date=as_of,
            headers={"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                     "X-Duban-Key": message.key, "X-Duban-Covers": covers},
        )  # fmt: skip

    recipients = (*(str(e) for e in unit.emails), *(str(e) for e in cc))
    only = message.duties[0].facts.instance_id if len(message.duties) == 1 else None
    return Draft(message.key, top.kind, campaign.id, only, recipients, rendered.subject,
                 compose)  # fmt: skip


def _copied(unit: Unit, rung: Rung) -> list[str]:
    """The head and supervisor, when the rung copies them and the roster has them."""
    return [e for who, e in (("head", unit.head_email), ("supervisor", unit.supervisor_email))
            if who in rung.to and e]  # fmt: skip


def with_open_items(
    session: Session,
    bundle: CampaignBundle,
    duties: Sequence[tuple[InstanceFacts, str]],
    *,
    secret: bytes,
    env: Environment,
    as_of: datetime,
    builders: dict[tuple[str, str], NoticeBuilder],
) -> None:
    """Before reminding these duties (facts, unit id), make the workbooks of a progress report
    (``rectification_progress``) carry each unit's open items as they stand now, as the notice
    did: a unit that lost the notice fills the reminder's attachment, not a blank form. One
    builder per deliverable period (one master, one ``SheetPrefiller``), reading its units'
    items in one query. A unit with more items than the sheet holds still gets its reminder,
    with the form alone (``ItemPrefill.load``, not strict)."""
    units: dict[tuple[str, str], list[str]] = {}
    for facts, unit_id in duties:
        _builder(bundle, facts, secret, env, as_of, builders)
        units.setdefault((facts.deliverable_id, facts.period), []).append(unit_id)
    for key, unit_ids in units.items():
        with_items(builders[key], session, unit_ids, strict=False)


def _builder(
    bundle: CampaignBundle,
    facts: InstanceFacts,
    secret: bytes,
    env: Environment,
    as_of: datetime,
    builders: dict[tuple[str, str], NoticeBuilder],
) -> NoticeBuilder:
    """The workbook maker of a deliverable period, made once a chase."""
    key = (facts.deliverable_id, facts.period)
    if key not in builders:
        deliverable = bundle.campaign.deliverable(facts.deliverable_id)
        builders[key] = NoticeBuilder(bundle, deliverable, facts.period, facts.effective_due,
                                      secret, env, as_of)  # fmt: skip
    return builders[key]


def _duty_line(bundle: CampaignBundle, o: Owed, as_of: datetime) -> dict[str, Any]:
    campaign = bundle.campaign
    return {
        "deliverable": campaign.deliverable(o.facts.deliverable_id), "period": o.facts.period,
        "kind": o.due.rung.kind, "overdue": as_of >= o.facts.effective_due,
        "due_text": format_due(o.facts.effective_due, campaign.zone, campaign.language),
        "late_days": late_days(bundle, o.facts, as_of), "rejected": o.state is State.REJECTED,
    }  # fmt: skip


def _item_line(owed: OwedItem, language: Language) -> dict[str, Any]:
    return {
        "code": owed.item.code, "finding": shorten(owed.item.finding),
        "deadline_text": format_date(owed.deadline, language), "late_days": owed.late_days,
        "kind": owed.due.rung.kind, "long_term": owed.item.long_term,
    }  # fmt: skip


def shorten(text: str, width: int = FINDING_WIDTH) -> str:
    """One line of at most ``width`` characters, an ellipsis where it was cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def format_date(day: date, language: Language) -> str:
    if language == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B %Y')}"


def item_escalations(campaign_id: str, items: Sequence[OwedItem]) -> list[ItemEscalation]:
    """The items whose rung due now goes to the office (the coordinator, the group bots), one
    group per rung and day."""
    grouped: dict[tuple[str, date], list[OwedItem]] = {}
    for owed in items:
        if OFFICE_SIDE.intersection(owed.due.rung.to):
            grouped.setdefault((owed.due.rung.kind, owed.due.day), []).append(owed)
    groups = []
    for (kind, day), members in sorted(grouped.items()):
        to = set(members[0].due.rung.to)
        groups.append(
            ItemEscalation(
                key=f"escalation:{campaign_id}:items:{kind}:{day}",
                kind=kind,
                day=day,
                to_coordinator="coordinator" in to,
                to_bots="bots" in to,
                items=tuple(sorted(members, key=lambda o: (o.item.unit_id, o.item.seq))),
            )
        )
    return groups


def _office_draft(campaign: Campaign, key: str, rendered: Rendered, as_of: datetime) -> Draft:
    """An escalation to the coordinator's own address, from it, as the office's mail."""
    coordinator = campaign.roles.coordinator
    office = Address(coordinator.name, str(coordinator.email))

    def compose(message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            sender=office, to=(office,), subject=rendered.subject, text=rendered.text,
            html=rendered.html, message_id=message_id, date=as_of,
            headers={"Auto-Submitted": "auto-generated", "X-Duban-Key": key},
        )  # fmt: skip

    return Draft(key, "escalation", campaign.id, None, (str(coordinator.email),),
                 rendered.subject, compose)  # fmt: skip


def _item_escalation_draft(
    bundle: CampaignBundle, group: ItemEscalation, env: Environment, as_of: datetime
) -> Draft:
    campaign = bundle.campaign
    language = campaign.language
    lines = [_item_line(o, language) | {"unit": o.unit.name, "head": o.unit.head_email}
             for o in group.items]  # fmt: skip
    context = {
        "coordinator": campaign.roles.coordinator, "items": lines,
        "units": len({o.unit.id for o in group.items}),
        "as_of_text": format_moment(as_of, campaign.zone, language),
    }  # fmt: skip
    rendered = render_message(env, language, "item-escalation", context)
    return _office_draft(campaign, group.key, rendered, as_of)


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
    return _office_draft(campaign, group.key, rendered, as_of)
