"""Publishing an evaluation (issue 17 items 5 and 6): each unit its own result, by mail.

A preliminary result goes to every unit with its score sheet (得分说明) and its appeal form
(复核申请表): the unit checks each line and, within ``scoring.appeal_days`` working days,
replies with its reasons next to the lines it disputes. The publication (the version, the
moment, the window's close) is recorded once, under the evaluation's lock, before the first
message goes out (``publication``), so every unit is told the same close and intake reads it.
Publishing again after the result changed (an upheld appeal, a late correction) sends the new
sheet only to the units whose sheet now reads differently; the window stays as first told.

A frozen result goes to every unit with its final sheet and the bulletin (考核通报), and the
bulletin to the distribution list. Every message is keyed (``evaluation-sheet:<campaign>:
<label>:v<version>:unit:<id>``, ``…:final:…``), so a second run, or two at once, sends nothing
twice, and a run cut short is finished by the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_day, format_due, format_moment, render_message
from duban.clock import Clock
from duban.evaluate.publication import (
    PUBLISHED_EVENT,
    Publication,
    appeals_close,
    evaluation_subject,
    publication,
    published_versions,
)
from duban.evaluate.report import EvaluationReport
from duban.evaluate.words import group_title, sheet_words
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import AppealRow
from duban.ledger.store import append_event
from duban.mobilize.notices import XLSX_TYPE
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.sending.dispatch import DONE, Draft, dispatch

SHEET_KIND = "evaluation-sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


Named = Callable[[str], str]
"""unit id → a file's name."""
Made = Callable[[str], bytes]
"""unit id → the file's bytes, made when the message is composed (never for a unit already
sent its message)."""


@dataclass(frozen=True)
class UnitFiles:
    """What one unit's message carries: its score sheet, and its appeal form while the
    result is preliminary (a frozen result carries the bulletin instead)."""

    sheet_name: Named
    sheet: Made
    appeal_name: Named | None = None
    appeal_form: Made | None = None
    bulletin: Path | None = None

    def names(self, unit_id: str, final: bool) -> list[str]:
        names = [self.sheet_name(unit_id)]
        if self.appeal_name is not None and not final:
            names.append(self.appeal_name(unit_id))
        if self.bulletin is not None:
            names.append(self.bulletin.name)
        return names

    def attachments(self, unit_id: str, final: bool) -> tuple[Attachment, ...]:
        parts = [Attachment(self.sheet_name(unit_id), self.sheet(unit_id), XLSX_TYPE)]
        if self.appeal_name is not None and self.appeal_form is not None and not final:
            form = self.appeal_form(unit_id)
            parts.append(Attachment(self.appeal_name(unit_id), form, XLSX_TYPE))
        if self.bulletin is not None:
            parts.append(Attachment(self.bulletin.name, self.bulletin.read_bytes(), DOCX_TYPE))
        return tuple(parts)


@dataclass(frozen=True)
class PublishReport:
    """What ``publish`` did: the version, whether final, the appeal window (preliminary),
    how many units it addresses this time, how many messages this call sent, the keys still
    unsent."""

    label: str
    version: int
    final: bool
    appeals_close: datetime | None
    units: int
    sent: int
    unsent: tuple[str, ...] = ()


def open_publication(
    session: Session, bundle: CampaignBundle, label: str, version: int, clock: Clock
) -> Publication:
    """The publication of ``version``: the first one's window, recorded once (under the
    evaluation's lock, re-read, so two runs at once record it once), committed before any
    message goes out; a later version is recorded beside it, keeping the first's window."""
    campaign_id = bundle.campaign.id
    hold_write_lock(session.connection(), f"evaluation:{campaign_id}:{label}")
    first = publication(session, campaign_id, label)
    if version not in published_versions(session, campaign_id, label):
        now = clock.now()
        closes = first.appeals_close if first is not None else appeals_close(bundle, now)
        append_event(
            session, clock, PUBLISHED_EVENT, campaign_id=campaign_id,
            subject=evaluation_subject(label),
            payload={"version": version, "published_at": now.isoformat(),
                     "appeals_close": closes.isoformat()},
        )  # fmt: skip
    session.commit()
    found = publication(session, campaign_id, label)
    assert found is not None  # recorded just above, or before
    return found


def changed_units(report: EvaluationReport, before: EvaluationReport | None) -> list[str]:
    """The units whose score sheet reads differently from ``before`` (every unit without)."""
    units = [p.unit_id for p in report.evaluation.placings]
    if before is None:
        return units
    return [u for u in units if _said(report, u) != _said(before, u)]


def _said(report: EvaluationReport, unit_id: str) -> list[tuple[str, str]]:
    return [(s.part, s.text) for s in sheet_words(report, report.sheet(unit_id))]


def send_sheets(
    session: Session,
    bundle: CampaignBundle,
    report: EvaluationReport,
    version: int,
    units: Sequence[str],
    files: UnitFiles,
    *,
    window: Publication | None,
    mailer: Mailer,
    clock: Clock,
    env: Environment,
) -> PublishReport:
    """Each of ``units`` its message, once per version (or once, final)."""
    composer = _Composer(bundle, report, version, files, window, env, clock.now())
    drafts = [composer.draft(bundle.unit(u)) for u in units]
    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    outcomes = dispatch(session, drafts, mailer, clock, message_id_domain=domain)
    unsent = tuple(o.key for o in outcomes if o.status not in DONE)
    return PublishReport(
        report.label, version, report.final, None if window is None else window.appeals_close,
        len(drafts), sum(o.sent_now for o in outcomes), unsent,
    )  # fmt: skip


def sheet_key(bundle: CampaignBundle, label: str, stage: str, unit_id: str) -> str:
    return f"{SHEET_KIND}:{bundle.campaign.id}:{label}:{stage}:unit:{unit_id}"


class _Composer:
    """The drafts of one publication: what every message shares, and each unit's files."""

    def __init__(
        self,
        bundle: CampaignBundle,
        report: EvaluationReport,
        version: int,
        files: UnitFiles,
        window: Publication | None,
        env: Environment,
        now: datetime,
    ) -> None:
        campaign = bundle.campaign
        self.bundle, self.report, self.files, self.env, self.now = bundle, report, files, env, now
        self.stage = "final" if report.final else f"v{version}"
        again = window is not None and window.version != version
        self.common: dict[str, Any] = {
            "campaign": campaign,
            "label": report.label,
            "final": report.final,
            "again": again,
            "coordinator": campaign.roles.coordinator,
            "appeal_days": campaign.scoring.appeal_days,
            "closes_text": None
            if window is None
            else format_due(window.appeals_close, campaign.zone, campaign.language),
            "sent_on": format_day(now, campaign.zone, campaign.language),
        }

    def draft(self, unit: Unit) -> Draft:
        campaign = self.bundle.campaign
        report = self.report
        sheet = report.sheet(unit.id)
        files, final = self.files, report.final
        context = {**self.common, "unit": unit, "total": sheet.total, "rank": sheet.rank,
                   "of": sheet.of, "group": group_title(report, sheet.group_id),
                   "attachments": files.names(unit.id, final)}  # fmt: skip
        rendered = render_message(self.env, campaign.language, SHEET_KIND, context)
        coordinator = campaign.roles.coordinator
        sender = Address(coordinator.name, str(coordinator.email))
        to = tuple(Address(unit.name, str(a)) for a in unit.emails)
        key = sheet_key(self.bundle, report.label, self.stage, unit.id)
        headers = {"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                   "X-Duban-Key": key}  # fmt: skip

        def compose(message_id: str) -> OutgoingMessage:
            return OutgoingMessage(
                sender=sender, to=to, subject=rendered.subject, text=rendered.text,
                html=rendered.html, attachments=files.attachments(unit.id, final),
                message_id=message_id, date=self.now, headers=headers,
            )  # fmt: skip

        return Draft(key=key, kind=SHEET_KIND, campaign_id=campaign.id, instance_id=None,
                     recipients=tuple(str(a) for a in unit.emails), subject=rendered.subject,
                     compose=compose)  # fmt: skip


DECISION_KIND = "appeal-decision"


def send_decision(
    session: Session,
    bundle: CampaignBundle,
    appeal: AppealRow,
    version: int | None,
    *,
    mailer: Mailer,
    clock: Clock,
    env: Environment,
) -> bool:
    """The unit told the decision on its appeal (the reason, and for an upheld one the
    version it gave), once: keyed by the appeal. Whether it was sent now."""
    campaign = bundle.campaign
    unit = bundle.unit(appeal.unit_id)
    now = clock.now()
    context = {
        "campaign": campaign, "unit": unit, "appeal": appeal, "upheld": appeal.state == "upheld",
        "version": version, "coordinator": campaign.roles.coordinator,
        "received_text": format_moment(appeal.received_at, campaign.zone, campaign.language),
        "sent_on": format_day(now, campaign.zone, campaign.language),
    }  # fmt: skip
    rendered = render_message(env, campaign.language, DECISION_KIND, context)
    coordinator = campaign.roles.coordinator
    key = f"{DECISION_KIND}:{campaign.id}:{appeal.label}:A{appeal.id}"
    headers = {"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
               "X-Duban-Key": key}  # fmt: skip

    def compose(message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            sender=Address(coordinator.name, str(coordinator.email)),
            to=tuple(Address(unit.name, str(a)) for a in unit.emails), subject=rendered.subject,
            text=rendered.text, html=rendered.html, attachments=(), message_id=message_id,
            date=now, headers=headers,
        )  # fmt: skip

    draft = Draft(key=key, kind=DECISION_KIND, campaign_id=campaign.id, instance_id=None,
                  recipients=tuple(str(a) for a in unit.emails), subject=rendered.subject,
                  compose=compose)  # fmt: skip
    domain = str(coordinator.email).rsplit("@", 1)[1]
    [outcome] = dispatch(session, [draft], mailer, clock, message_id_domain=domain)
    return bool(outcome.sent_now)
