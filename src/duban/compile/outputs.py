"""The compile use case: gather from the ledger, write the summary workbook and the bulletin,
record what was used, and (on request) send the bulletin and post its short form."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from duban.adapters.bots import BotMessage, BotResult, BotSender, BotSpec
from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import Rendered
from duban.clock import Clock
from duban.compile.bulletin import render_bulletin_html, write_bulletin_docx
from duban.compile.gather import RowSource, gather, latest_period
from duban.compile.issues import issue_number
from duban.compile.model import CompileInput
from duban.compile.texts import BULLETIN_TEXTS, WORKBOOK_TEXTS, period_text
from duban.compile.workbook import SummaryStats, write_summary
from duban.ledger.db import session_scope
from duban.ledger.store import append_event
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import Draft, Outcome, dispatch
from duban.sending.escalate import Keep, post_once

_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Compiled:
    data: CompileInput
    folder: Path
    workbook: Path
    html: Path
    docx: Path
    stats: SummaryStats
    bulletin: Rendered
    issue: int  # the bulletin's number (期数) in the campaign

    @property
    def key(self) -> str:
        d = self.data
        return f"{d.campaign_id}:{d.deliverable_id}:{d.period}:{d.as_of:%Y%m%d}"


def compile_outputs(
    engine: Engine,
    bundle: CampaignBundle,
    deliverable_id: str,
    period: str | None,
    *,
    as_of: datetime,
    out: Path,
    env: Environment,
    clock: Clock,
    rows: RowSource | None = None,
) -> Compiled:
    with session_scope(engine) as session:
        period = period or latest_period(session, bundle, deliverable_id, as_of)
    data = gather(engine, bundle, deliverable_id, period, as_of, rows)
    with session_scope(engine) as session:
        issue = issue_number(session, bundle.campaign.id, deliverable_id, period, clock)
    number = BULLETIN_TEXTS[data.language].issue.format(n=issue)
    folder = out / bundle.campaign.id / f"{deliverable_id}-{period}"
    folder.mkdir(parents=True, exist_ok=True)
    summary_name, bulletin_name = file_names(data)
    workbook = folder / f"{summary_name}.xlsx"
    stats = write_summary(data, workbook)
    bulletin = render_bulletin_html(data, env, number=number)
    html, docx = folder / f"{bulletin_name}.html", folder / f"{bulletin_name}.docx"
    html.write_text(bulletin.html, encoding="utf-8")
    write_bulletin_docx(data, docx, number=number)
    compiled = Compiled(data, folder, workbook, html, docx, stats, bulletin, issue)
    with session_scope(engine) as session:
        append_event(
            session, clock, "compile.written", campaign_id=bundle.campaign.id,
            subject=f"{deliverable_id}/{period}",
            payload={"workbook": str(workbook), "issue": issue,
                     "detail_rows": stats.detail_rows,
                     "versions_used": [list(v) for v in stats.versions_used]},
        )  # fmt: skip
    return compiled


def file_names(data: CompileInput) -> tuple[str, str]:
    """The summary workbook's and the bulletin's names (without suffix) as the office would
    call them, in the campaign's language: 实施方案汇总表, 重点工作季度进展（2026年第一季度）通报;
    a one-off deliverable names no period. Characters no file system takes become ``_``."""
    texts = WORKBOOK_TEXTS[data.language]
    period = (
        ""
        if data.period == "once"
        else texts.file_period.format(period=period_text(data.period, data.language))
    )
    summary, bulletin = (
        safe_name(name.format(title=data.deliverable_title, period=period))
        for name in (texts.file_name, texts.bulletin_file_name)
    )
    return summary, bulletin


def safe_name(name: str) -> str:
    """A file name any file system takes: the characters none does become ``_``."""
    return _UNSAFE_IN_NAMES.sub("_", name)


def send_bulletin(
    session: Session,
    bundle: CampaignBundle,
    compiled: Compiled,
    *,
    mailer: Mailer,
    clock: Clock,
) -> list[Outcome]:
    """The bulletin to the distribution list, once per deliverable period and day."""
    return send_to_distribution(session, bundle, f"bulletin:{compiled.key}", compiled.bulletin,
                                compiled.docx, mailer=mailer, clock=clock)  # fmt: skip


def send_to_distribution(
    session: Session,
    bundle: CampaignBundle,
    key: str,
    rendered: Rendered,
    docx: Path,
    *,
    mailer: Mailer,
    clock: Clock,
) -> list[Outcome]:
    """A bulletin (its .docx attached) from the office to the distribution list (or to the
    coordinator alone when the campaign names none), once for ``key``: a second run, or two
    at once, sends nothing more."""
    campaign = bundle.campaign
    coordinator = campaign.roles.coordinator
    office = Address(coordinator.name, str(coordinator.email))
    recipients = tuple(str(a) for a in campaign.roles.distribution) or (str(coordinator.email),)

    def compose(message_id: str) -> OutgoingMessage:
        attachments = (Attachment(docx.name, docx.read_bytes(), DOCX_TYPE),)
        return OutgoingMessage(
            sender=office, to=tuple(Address("", r) for r in recipients),
            subject=rendered.subject, text=rendered.text, html=rendered.html,
            attachments=attachments, message_id=message_id, date=clock.now(),
            headers={"Auto-Submitted": "auto-generated", "X-Duban-Key": key},
        )  # fmt: skip

    draft = Draft(key, "bulletin", campaign.id, None, recipients, rendered.subject, compose)
    domain = str(coordinator.email).rsplit("@", 1)[1]
    return dispatch(session, [draft], mailer, clock, message_id_domain=domain)


def post_bulletin(
    session: Session,
    compiled: Compiled,
    *,
    sender: BotSender,
    specs: Sequence[BotSpec],
    clock: Clock,
    keep: Keep | None = None,
) -> list[BotResult]:
    """The bulletin's short form to the group bots: the figures and who is late or missing."""
    d = compiled.data
    t = d.totals
    late = [u.unit_name for u in d.in_state("late")]
    missing = [u.unit_name for u in d.in_state("overdue", "rejected")]
    unreported = t.missing + t.rejected
    received = f"已报 {t.received}（按时 {t.on_time}，逾期 {t.late}）"
    lines = [f"应报 {t.expected}，{received}，未报 {unreported}"]
    if late:
        lines.append(f"逾期报送：{'、'.join(late)}")
    if missing:
        lines.append(f"未报送：{'、'.join(missing)}")
    title = f"【通报】{d.campaign_title}《{d.deliverable_title}》报送情况"
    message = BotMessage(title=title, lines=lines, units=missing, campaign=d.campaign_title)
    results = []
    for number, spec in enumerate(specs, start=1):
        result = post_once(session, sender, spec, f"bot:bulletin:{compiled.key}:{number}",
                           d.campaign_id, message, clock, keep)  # fmt: skip
        if result is not None:
            results.append(result)
    return results
