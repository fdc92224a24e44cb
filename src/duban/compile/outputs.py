"""The compile use case: gather from the ledger, write the summary workbook and the bulletin,
record what was used, and (on request) send the bulletin and post its short form."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from duban.adapters.bots import BotMessage, BotResult, BotSender, BotSpec
from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import Rendered
from duban.clock import Clock
from duban.compile import reviewed
from duban.compile.bulletin import render_bulletin_html, write_bulletin_docx
from duban.compile.gather import RowSource, gather, latest_period, versions_used
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
    reused: bool = False  # the files of an earlier compile, sent as reviewed (``compile.reviewed``)

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
    reuse: bool = False,
) -> Compiled:
    """The period's summary workbook and bulletin, written now; with ``reuse``, the ones an
    earlier compile wrote today if nothing they are made from changed (``compile.reviewed``)."""
    with session_scope(engine) as session:
        period = period or latest_period(session, bundle, deliverable_id, as_of)
    data = gather(engine, bundle, deliverable_id, period, as_of, rows)
    with session_scope(engine) as session:
        issue = issue_number(session, bundle.campaign.id, deliverable_id, period, clock)
    folder = out / bundle.campaign.id / f"{deliverable_id}-{period}"
    job = _Compiling(engine, data, issue, _paths(folder, data), env, clock)
    kept = job.kept() if reuse and rows is None else None
    return kept or job.written()


def _paths(folder: Path, data: CompileInput) -> tuple[Path, Path, Path]:
    """Where the summary workbook, the bulletin's HTML and its .docx go."""
    summary_name, bulletin_name = file_names(data)
    return (folder / f"{summary_name}.xlsx", folder / f"{bulletin_name}.html",
            folder / f"{bulletin_name}.docx")  # fmt: skip


@dataclass(frozen=True)
class _Compiling:
    """One compile's gathered input, issue number and file paths: written now or kept."""

    engine: Engine
    data: CompileInput
    issue: int
    paths: tuple[Path, Path, Path]
    env: Environment
    clock: Clock

    @property
    def number(self) -> str:
        return BULLETIN_TEXTS[self.data.language].issue.format(n=self.issue)

    def written(self) -> Compiled:
        """The files written now, and the ledger told what they were made from."""
        data, issue = self.data, self.issue
        workbook, html, docx = self.paths
        workbook.parent.mkdir(parents=True, exist_ok=True)
        stats = write_summary(data, workbook)
        bulletin = render_bulletin_html(data, self.env, number=self.number)
        html.write_text(bulletin.html, encoding="utf-8")
        write_bulletin_docx(data, docx, number=self.number)
        compiled = Compiled(data, workbook.parent, workbook, html, docx, stats, bulletin, issue)
        self._log(reviewed.WRITTEN, {
            "workbook": str(workbook), "issue": issue, "detail_rows": stats.detail_rows,
            "units": stats.units, "versions_used": [list(v) for v in stats.versions_used],
            "as_of": data.as_of.isoformat(),
            "fingerprint": reviewed.fingerprint(data, stats.versions_used, issue),
            "files": reviewed.digests(self.paths),
        })  # fmt: skip
        return compiled

    def kept(self) -> Compiled | None:
        """An earlier compile's files, if they are what a compile now would write but its
        time; its bulletin rendered again for the mail's body, kept only if it is the file's
        text."""
        data = self.data
        workbook, html, docx = self.paths
        with session_scope(self.engine) as session:
            used = versions_used(session, data.campaign_id, data.deliverable_id, data.period,
                                 data.as_of)  # fmt: skip
            digest = reviewed.fingerprint(data, used, self.issue)
            earlier = reviewed.earlier(session, data, digest, self.paths)
        if earlier is None:
            return None
        then = replace(data, as_of=earlier.as_of, submissions=())
        bulletin = render_bulletin_html(then, self.env, number=self.number)
        if bulletin.html.encode() != html.read_bytes():
            return None
        stats = SummaryStats(earlier.detail_rows, earlier.units, earlier.versions_used)
        self._log(reviewed.REUSED, {"workbook": str(workbook),
                                    "as_of": earlier.as_of.isoformat()})  # fmt: skip
        return Compiled(then, workbook.parent, workbook, html, docx, stats, bulletin,
                        self.issue, reused=True)  # fmt: skip

    def _log(self, kind: str, payload: dict[str, Any]) -> None:
        with session_scope(self.engine) as session:
            append_event(session, self.clock, kind, campaign_id=self.data.campaign_id,
                         subject=f"{self.data.deliverable_id}/{self.data.period}",
                         payload=payload)  # fmt: skip


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
