"""Telling an approved round (issue 16, item 4): each inspector one message listing the units
their team(s) visit, the visit window and their fellow members, with one scoresheet per unit
attached; each unit of an announced inspection a notice of the visit window (an unannounced
one's units hear nothing until the results).

Exactly once through ``dispatch``: every message is keyed by round and recipient
(``inspect:<campaign>:<inspection>:<round>:inspector:<id>`` or ``…:unit:<id>``), so a second
run, or two at once, sends nothing twice, and a run cut short is finished by the next. The
window runs over the ``window_working_days`` working days after the day the round was first
notified (the day its first message was recorded, so a retry tells the same window), on the
campaign's calendar. Once every message is sent the round is ``notified``, with its event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_day, render_message
from duban.clock import Clock
from duban.errors import DubanError
from duban.inspect.rounds import APPROVED, NOTIFIED, assignments_of
from duban.inspect.sheetcheck import plain_number
from duban.inspect.sheets import ScoresheetBuilder
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import EventRow, InspectionRoundRow, MessageRow
from duban.ledger.store import append_event
from duban.mobilize.notices import XLSX_TYPE
from duban.model.inspections import InspectionSpec
from duban.model.inspectors import Inspector
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.sending.dispatch import DONE, Draft, dispatch


class NotifyError(DubanError):
    """A round that cannot be told yet: not approved, or a team member without an address."""


@dataclass(frozen=True)
class NotifyReport:
    """What ``notify_round`` did: the window told, how many inspectors and units it addresses,
    how many messages this call sent, the keys still unsent, and whether the round had been
    notified before (then nothing was sent)."""

    label: str
    window: tuple[date, date]
    inspectors: int
    units: int
    sent: int
    unsent: tuple[str, ...] = ()
    already: bool = False


@dataclass(frozen=True)
class Visit:
    """One unit a team visits, and the team (inspectors in draw order)."""

    unit: Unit
    team: tuple[Inspector, ...]


NOTIFIED_EVENT = "inspection.notified"


def round_subject(round_row: InspectionRoundRow) -> str:
    """The events' subject for the round (as the draw's steps write it)."""
    return f"inspection:{round_row.inspection_id}/{round_row.label}"


def notified_window(
    session: Session, campaign_id: str, round_row: InspectionRoundRow
) -> tuple[date, date] | None:
    """The visit window the round's units and teams were told, from the event that marked it
    notified; ``None`` before it was (a round approved but not notified has no window)."""
    payload = session.scalar(
        select(EventRow.payload).where(
            EventRow.campaign_id == campaign_id,
            EventRow.kind == NOTIFIED_EVENT,
            EventRow.subject == round_subject(round_row),
        )
    )
    if payload is None:
        return None
    first, last = payload["window"]
    return date.fromisoformat(str(first)), date.fromisoformat(str(last))


def round_key(bundle: CampaignBundle, round_row: InspectionRoundRow) -> str:
    """The prefix of every message key of the round."""
    return f"inspect:{bundle.campaign.id}:{round_row.inspection_id}:{round_row.label}:"


def notify_round(
    session: Session,
    bundle: CampaignBundle,
    round_id: int,
    *,
    mailer: Mailer,
    clock: Clock,
    secret: bytes,
    env: Environment,
) -> NotifyReport:
    """Send the round's assignments and visit notices not sent before; mark it ``notified``
    once all are sent. The session is committed along the way (``dispatch`` commits)."""
    round_row = session.get_one(InspectionRoundRow, round_id)
    visits = _visits(session, bundle, round_row)
    spec = bundle.campaign.inspection(round_row.inspection_id)
    window = visit_window(bundle, spec, _first_day(session, bundle, round_row, clock))
    told_units = [v.unit for v in visits] if round_row.announced else []
    inspectors = _inspectors_of(visits)
    if round_row.state == NOTIFIED:
        return NotifyReport(round_row.label, window, len(inspectors), len(told_units), 0,
                            already=True)  # fmt: skip
    composer = _Composer(bundle, round_row, window, secret, env, clock.now())
    drafts = [composer.assignment(i, [v for v in visits if i in v.team]) for i in inspectors]
    drafts += [composer.visit(unit) for unit in told_units]
    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    outcomes = dispatch(session, drafts, mailer, clock, message_id_domain=domain)
    unsent = tuple(o.key for o in outcomes if o.status not in DONE)
    if not unsent:
        _mark_notified(session, bundle, round_row, clock, window, visits)
    return NotifyReport(round_row.label, window, len(inspectors), len(told_units),
                        sum(o.sent_now for o in outcomes), unsent)  # fmt: skip


def visit_window(bundle: CampaignBundle, spec: InspectionSpec, day: date) -> tuple[date, date]:
    """The first and last working day of the window that opens the working day after
    ``day``: ``window_working_days`` of them, on the campaign's calendar."""
    calendar, days = bundle.calendar, spec.window_working_days
    return calendar.add_working_days(day, 1), calendar.add_working_days(day, days)


def _visits(session: Session, bundle: CampaignBundle, round_row: InspectionRoundRow) -> list[Visit]:
    if round_row.state not in (APPROVED, NOTIFIED):
        raise NotifyError(
            f"round {round_row.label} of {round_row.inspection_id} is {round_row.state}, not "
            "approved: nobody is told before the coordinator approves the draw",
            hint="approve it first: `duban inspect approve`",
            zh=f"督查“{round_row.inspection_id}”第 {round_row.label} 轮尚未审定，不能通知",
            zh_hint="请先运行 `duban inspect approve` 审定抽取结果",
        )
    register = {i.id: i for i in bundle.inspectors}
    visits, missing = [], []
    for row in assignments_of(session, round_row.id):
        ids = [str(i) for i in row.inspectors]
        missing += [i for i in ids if i not in register or not register[i].emails]
        team = tuple(register[i] for i in ids if i in register)
        visits.append(Visit(bundle.units_by_id[row.unit_id], team))
    if missing:
        raise NotifyError(
            f"inspector(s) {', '.join(sorted(set(missing)))} of this round are not in the "
            "inspector register or have no email address there",
            hint="add their addresses to the register (联系邮箱) and notify again",
            zh=f"本轮检查人员 {'、'.join(sorted(set(missing)))} 不在检查人员名录中或没有登记邮箱",
            zh_hint="请在名录的“联系邮箱”列登记后重新通知",
        )
    return visits


def _inspectors_of(visits: Sequence[Visit]) -> list[Inspector]:
    """Everyone on a team of the round, each once, in the order of first appearance."""
    seen: dict[str, Inspector] = {}
    for visit in visits:
        for inspector in visit.team:
            seen.setdefault(inspector.id, inspector)
    return list(seen.values())


def _first_day(
    session: Session, bundle: CampaignBundle, round_row: InspectionRoundRow, clock: Clock
) -> date:
    """The day the round's first message was recorded (today when none was)."""
    prefix = round_key(bundle, round_row)
    first = session.scalar(
        select(func.min(MessageRow.created_at)).where(
            MessageRow.idempotency_key.startswith(prefix, autoescape=True)
        )
    )
    moment = clock.now() if first is None else first
    return moment.astimezone(bundle.campaign.zone).date()


def _mark_notified(
    session: Session,
    bundle: CampaignBundle,
    round_row: InspectionRoundRow,
    clock: Clock,
    window: tuple[date, date],
    visits: Sequence[Visit],
) -> None:
    """The round's state and event, once: under the round's lock, re-read, so two runs that
    both finished sending record it once."""
    campaign_id = bundle.campaign.id
    hold_write_lock(
        session.connection(), f"inspect:{campaign_id}:{round_row.inspection_id}:{round_row.label}"
    )
    session.refresh(round_row)
    if round_row.state == NOTIFIED:
        return
    round_row.state = NOTIFIED
    append_event(
        session, clock, NOTIFIED_EVENT, campaign_id=campaign_id, subject=round_subject(round_row),
        payload={"window": [window[0].isoformat(), window[1].isoformat()],
                 "announced": round_row.announced,
                 "teams": {v.unit.id: [i.id for i in v.team] for v in visits}},
    )  # fmt: skip


class _Composer:
    """The drafts of one round: what every message of it shares, and one master scoresheet."""

    def __init__(
        self,
        bundle: CampaignBundle,
        round_row: InspectionRoundRow,
        window: tuple[date, date],
        secret: bytes,
        env: Environment,
        now: datetime,
    ) -> None:
        campaign = bundle.campaign
        self.bundle, self.round_row, self.env, self.now = bundle, round_row, env, now
        self.spec = campaign.inspection(round_row.inspection_id)
        self.key = round_key(bundle, round_row)
        end = datetime.combine(window[1] + timedelta(days=1), time(), tzinfo=campaign.zone)
        self.sheets = ScoresheetBuilder(bundle, self.spec, round_row.label, end, secret)
        self.common: dict[str, Any] = {
            "campaign": campaign,
            "inspection": self.spec,
            "label": round_row.label,
            "announced": round_row.announced,
            "window_start": _day_text(bundle, window[0]),
            "window_end": _day_text(bundle, window[1]),
            "window_days": self.spec.window_working_days,
            "items": [
                {"title": i.title, "points": plain_number(i.points)}
                for i in self.sheets.checklist.items
            ],
            "coordinator": campaign.roles.coordinator,
            "sent_on": format_day(now, campaign.zone, campaign.language),
        }

    def assignment(self, inspector: Inspector, visits: Sequence[Visit]) -> Draft:
        units = [
            {"unit": v.unit, "attachment": self.sheets.attachment_name(v.unit),
             "fellows": [f for f in v.team if f.id != inspector.id]}
            for v in visits
        ]  # fmt: skip
        context = {**self.common, "inspector": inspector, "units": units,
                   "findings_due": self.spec.findings_due}  # fmt: skip

        def attachments() -> tuple[Attachment, ...]:
            return tuple(
                Attachment(self.sheets.attachment_name(v.unit), self.sheets.workbook(v.unit),
                           XLSX_TYPE)
                for v in visits
            )  # fmt: skip

        to = tuple(Address(inspector.name, e) for e in inspector.emails)
        key = f"{self.key}inspector:{inspector.id}"
        return self._draft(key, "inspection-assignment", context, to, attachments)

    def visit(self, unit: Unit) -> Draft:
        to = tuple(Address(unit.name, str(e)) for e in unit.emails)
        context = {**self.common, "unit": unit}
        return self._draft(f"{self.key}unit:{unit.id}", "inspection-visit", context, to, tuple)

    def _draft(
        self,
        key: str,
        kind: str,
        context: dict[str, Any],
        to: tuple[Address, ...],
        attachments: Any,
    ) -> Draft:
        campaign = self.bundle.campaign
        rendered = render_message(self.env, campaign.language, kind, context)
        coordinator = campaign.roles.coordinator
        sender = Address(coordinator.name, str(coordinator.email))
        headers = {"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                   "X-Duban-Key": key}  # fmt: skip

        def compose(message_id: str) -> OutgoingMessage:
            return OutgoingMessage(
                sender=sender, to=to, subject=rendered.subject, text=rendered.text,
                html=rendered.html, attachments=attachments(), message_id=message_id,
                date=self.now, headers=headers,
            )  # fmt: skip

        return Draft(key=key, kind=kind, campaign_id=campaign.id, instance_id=None,
                     recipients=tuple(a.email for a in to), subject=rendered.subject,
                     compose=compose)  # fmt: skip


def _day_text(bundle: CampaignBundle, day: date) -> str:
    zone = bundle.campaign.zone
    return format_day(datetime.combine(day, time(12), tzinfo=zone), zone, bundle.campaign.language)
