"""Answers to senders: an acknowledgement or a rejection per intake record, each exactly once.

Answers are derived from what the ledger recorded, not from the run that recorded it, so a
crash between deciding and answering is repaired by the next run (``dispatch`` keys every
answer by its intake record). Unknown senders get no answer (no backscatter to forged
addresses); held items wait for the coordinator's review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_due, format_moment, render_message
from duban.implement.intake.appeals import APPEAL_ANSWERED, APPEAL_RECORDED
from duban.implement.intake.ballots import BALLOT_RECORDED, BALLOT_REFUSED
from duban.implement.intake.decide import REASONS, Outcome, unit_of_sender
from duban.implement.intake.mime import TOO_DEEP, TOO_MANY_PARTS
from duban.implement.intake.reasons import describe as describe_file_reason
from duban.implement.intake.scoresheets import SCORES_RECORDED, SCORES_REFUSED
from duban.implement.intake.submitting import PROGRESS_NOTES
from duban.implement.intake.verdicts import RECORDED, REFUSED
from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from duban.mobilize.notices import XLSX_TYPE, NoticeBuilder, with_items
from duban.model.campaign import Deliverable, Language
from duban.model.loader import CampaignBundle
from duban.model.status import due_day
from duban.model.validation import CellProblem
from duban.model.workdays import WorkCalendar
from duban.selfcheck.progress import Finding
from duban.sending.dispatch import Draft

MAX_LISTED = 30


@dataclass(frozen=True)
class AnswerContext:
    bundle: CampaignBundle
    secret: bytes
    env: Environment
    now: datetime
    builders: dict[tuple[str, str, datetime], NoticeBuilder] = field(
        default_factory=dict, compare=False
    )
    """One notice builder per deliverable, period and deadline for the answers of a batch: a
    rejection attaches a fresh template, and building the master anew for each took 17-80 ms
    against about 1 ms from a kept one (bench/round, 10,000 units)."""

    def builder(self, deliverable: Deliverable, period: str, due: datetime) -> NoticeBuilder:
        key = (deliverable.id, period, due)
        if key not in self.builders:
            self.builders[key] = NoticeBuilder(
                self.bundle, deliverable, period, due, self.secret, self.env, self.now
            )
        return self.builders[key]


ANSWER_PREFIX = "answer:"


def answer_key(intake_id: int) -> str:
    return f"{ANSWER_PREFIX}{intake_id}"


def answered_intake(key: str) -> int:
    """The intake record an ``answer_key`` answers."""
    return int(key.removeprefix(ANSWER_PREFIX))


def review_key(file_id: int) -> str:
    """The key of the rejection a coordinator's review sends for a held file: its own, since
    the message it came in may have had its answer already (another file accepted)."""
    return f"review:F{file_id}"


def review_rejection_draft(session: Session, ctx: AnswerContext, file_id: int) -> Draft | None:
    """The rejection of a held file the coordinator rejected, with the coordinator's note as
    its reason, to whoever sent it: the coordinator has looked at the sender, so an unknown
    one is answered too (addressed by address). None when the message had no sender."""
    file = session.get_one(IntakeFileRow, file_id)
    row = session.get_one(IntakeRow, file.intake_id)
    if row.sender is None:
        return None
    unit = unit_of_sender(ctx.bundle, row.sender)
    who = unit.name if unit is not None else row.sender
    return _rejection(session, ctx, row, [file], who=who, key=review_key(file.id))


def answer_drafts(session: Session, ctx: AnswerContext, intake_ids: Sequence[int]) -> list[Draft]:
    """The answers of a batch of intake records, read from the ledger in a few queries for
    the whole batch rather than three for each record (issue 20)."""
    rows = session.scalars(select(IntakeRow).where(IntakeRow.id.in_(intake_ids))).all()
    found = _Found.read(session, [row.id for row in rows])
    drafts = []
    for row in rows:
        draft = _draft(session, ctx, row, found)
        if draft is not None:
            drafts.append(draft)
    return drafts


@dataclass(frozen=True)
class _Found:
    """A batch's files (by intake record, in order) and the submissions they made (by file);
    the instances these name are loaded into the session, where ``session.get`` finds them."""

    files: dict[int, list[IntakeFileRow]]
    submissions: dict[int, SubmissionRow]
    instances: list[InstanceRow]
    """Held here because the session's identity map holds its rows weakly: dropped, each
    ``session.get`` of an instance read it again, a query an answer (issue 20)."""

    @classmethod
    def read(cls, session: Session, intake_ids: Sequence[int]) -> _Found:
        files: dict[int, list[IntakeFileRow]] = {i: [] for i in intake_ids}
        query = select(IntakeFileRow).where(IntakeFileRow.intake_id.in_(intake_ids))
        for file in session.scalars(query.order_by(IntakeFileRow.intake_id, IntakeFileRow.index)):
            files[file.intake_id].append(file)
        file_ids = [f.id for batch in files.values() for f in batch]
        query_submissions = (
            select(SubmissionRow)
            .where(SubmissionRow.intake_file_id.in_(file_ids))
            .options(defer(SubmissionRow.rows))  # an answer names the rows' count, not the rows
        )
        submissions = {
            s.intake_file_id: s
            for s in session.scalars(query_submissions)
            if s.intake_file_id is not None
        }
        instance_ids = {s.instance_id for s in submissions.values()}
        instance_ids |= {f.instance_id for b in files.values() for f in b if f.instance_id}
        query_instances = select(InstanceRow).where(InstanceRow.id.in_(instance_ids))
        return cls(files, submissions, list(session.scalars(query_instances)))


def _draft(session: Session, ctx: AnswerContext, row: IntakeRow, found: _Found) -> Draft | None:
    files = found.files[row.id]
    if row.sender is not None and row.reason in (RECORDED, REFUSED):
        return _verdicts_answer(ctx, row, files)
    if row.sender is not None and row.reason in (SCORES_RECORDED, SCORES_REFUSED):
        return _scoresheet_answer(ctx, row, files)
    if row.sender is not None and row.reason in (BALLOT_RECORDED, BALLOT_REFUSED):
        return _ballot_answer(ctx, row, files)
    if row.sender is not None and row.reason in APPEAL_ANSWERED:
        return _appeal_answer(ctx, row, files)
    if row.sender is None or unit_of_sender(ctx.bundle, row.sender) is None:
        return None
    if row.status == Outcome.ACCEPTED.value:
        accepted = next(f for f in files if f.outcome == Outcome.ACCEPTED.value)
        return _ack(session, ctx, row, accepted, found.submissions[accepted.id])
    if row.status in (Outcome.REJECTED.value, Outcome.QUARANTINED.value):
        return _rejection(session, ctx, row, files)
    return None


def _verdicts_answer(ctx: AnswerContext, row: IntakeRow, files: list[IntakeFileRow]) -> Draft:
    """The coordinator's verification sheet: what it recorded, or why nothing was (only the
    coordinator's own address gets here: ``decide`` holds the sheet from anyone else)."""
    campaign = ctx.bundle.campaign
    sheet = next(f for f in files if f.reason in (RECORDED, REFUSED))
    detail = sheet.problems[0] if sheet.problems else {}
    lines = list(detail.get("lines") or ())
    context = {
        "coordinator": campaign.roles.coordinator,
        "received_text": format_moment(row.received_at, campaign.zone, campaign.language),
        "filename": sheet.filename,
        "problems": lines[:MAX_LISTED],
        "more": max(0, len(lines) - MAX_LISTED),
        **{k: detail.get(k) or [] for k in ("closed", "returned", "already")},
        "blank": detail.get("blank") or 0,
    }
    return _as_draft(ctx, row, "verdicts", context, instance_id=None, attachments=())


def _scoresheet_answer(ctx: AnswerContext, row: IntakeRow, files: list[IntakeFileRow]) -> Draft:
    """An inspector's scoresheets: each one's total and the items its findings became, or
    its problems (nothing of it recorded). Only a team member's address gets here: a sheet
    from anyone else is held (``inspect.results``)."""
    campaign = ctx.bundle.campaign
    sender = str(row.sender).strip().lower()
    inspector = next((i for i in ctx.bundle.inspectors
                      if sender in (e.lower() for e in i.emails)), None)  # fmt: skip
    sheets = [_scoresheet_entry(f) for f in files if f.reason in (SCORES_RECORDED, SCORES_REFUSED)]
    context = {
        "who": inspector.name if inspector is not None else row.sender,
        "received_text": format_moment(row.received_at, campaign.zone, campaign.language),
        "sheets": sheets,
        "refused": sum(1 for s in sheets if not s["accepted"]),
        "coordinator": campaign.roles.coordinator,
    }
    return _as_draft(ctx, row, "scoresheet-answer", context, instance_id=None, attachments=())


def _scoresheet_entry(file: IntakeFileRow) -> dict[str, Any]:
    detail = dict(file.problems[0]) if file.problems else {}
    lines = list(detail.pop("lines", None) or ())
    return {**detail, "filename": file.filename or "", "problems": lines[:MAX_LISTED],
            "more": max(0, len(lines) - MAX_LISTED),
            "accepted": file.reason == SCORES_RECORDED}  # fmt: skip


def _ballot_answer(ctx: AnswerContext, row: IntakeRow, files: list[IntakeFileRow]) -> Draft:
    """An evaluator's ballots: each one recorded (how many units marked, the marks that will
    not count, late or not), or what to correct. Only the evaluator's own address gets here
    (``evaluate.ballot_intake`` holds a ballot from anyone else), so only they see it."""
    ballots = [_ballot_entry(f) for f in files if f.reason in (BALLOT_RECORDED, BALLOT_REFUSED)]
    return _entries_answer(ctx, row, "ballot-answer", ("ballots", ballots), who_key="name")


def _entries_answer(
    ctx: AnswerContext,
    row: IntakeRow,
    kind: str,
    entries: tuple[str, list[dict[str, Any]]],
    *,
    who_key: str,
) -> Draft:
    """The answer ``kind`` listing one entry per file (``entries``: their name in the
    template, and them), addressed to the name the first entry gives under ``who_key``."""
    campaign = ctx.bundle.campaign
    name, found = entries
    context = {
        "who": next((e[who_key] for e in found if e.get(who_key)), row.sender),
        "received_text": format_moment(row.received_at, campaign.zone, campaign.language),
        name: found,
        "refused": sum(1 for e in found if not e["accepted"]),
        "coordinator": campaign.roles.coordinator,
    }
    return _as_draft(ctx, row, kind, context, instance_id=None, attachments=())


def _ballot_entry(file: IntakeFileRow) -> dict[str, Any]:
    entry = _scoresheet_entry(file)
    return {**entry, "accepted": file.reason == BALLOT_RECORDED}


def _appeal_answer(ctx: AnswerContext, row: IntakeRow, files: list[IntakeFileRow]) -> Draft:
    """A unit's appeal forms: the appeals each one lodged (the coordinator decides them and
    tells the unit), or why none was. Only the unit's own address gets here
    (``evaluate.appeal_intake`` holds a form from anyone else)."""
    language = ctx.bundle.campaign.language
    forms = [_appeal_entry(f, language) for f in files if f.reason in APPEAL_ANSWERED]
    return _entries_answer(ctx, row, "appeal-answer", ("forms", forms), who_key="unit_name")


def _appeal_entry(file: IntakeFileRow, language: Language) -> dict[str, Any]:
    entry = _scoresheet_entry(file)
    reason = REASONS[language][file.reason or APPEAL_RECORDED].format(**entry)
    return {**entry, "accepted": file.reason == APPEAL_RECORDED, "reason": reason,
            "appeals": entry.get("appeals") or []}  # fmt: skip


def _ack(
    session: Session,
    ctx: AnswerContext,
    row: IntakeRow,
    file: IntakeFileRow,
    submission: SubmissionRow,
) -> Draft:
    campaign = ctx.bundle.campaign
    instance = session.get_one(InstanceRow, submission.instance_id)
    unit = ctx.bundle.units_by_id[instance.unit_id]
    context = {
        "unit": unit,
        "deliverable": campaign.deliverable(instance.deliverable_id),
        "period": instance.period,
        "version": submission.version,
        "received_text": format_moment(row.received_at, campaign.zone, campaign.language),
        "due_text": format_due(instance.effective_due, campaign.zone, campaign.language),
        "on_time": submission.on_time,
        "late_days": _late_days(ctx.bundle.calendar, instance, row.received_at, campaign.zone),
        "row_count": submission.row_count,
        "filename": file.filename or "",
        "sha256": file.sha256,
        "coordinator": campaign.roles.coordinator,
        "notes": _progress_lines(file, campaign.language),
    }
    return _as_draft(ctx, row, "ack", context, instance_id=instance.id, attachments=())


def _progress_lines(file: IntakeFileRow, language: Language) -> list[str]:
    """What an accepted progress report recorded and what the unit should know about it
    (``selfcheck.reporting``), one line each; nothing for other deliverables."""
    detail = file.problems[0] if file.problems else {}
    return [Finding.from_json(f).describe(language) for f in detail.get(PROGRESS_NOTES) or ()]


def _late_days(calendar: WorkCalendar, instance: InstanceRow, received: datetime, zone: Any) -> int:
    try:
        last = due_day(instance.effective_due, zone)
        return max(0, calendar.working_days_between(last, received.astimezone(zone).date()))
    except Exception:
        return 0


def _rejection(
    session: Session,
    ctx: AnswerContext,
    row: IntakeRow,
    files: list[IntakeFileRow],
    *,
    who: str | None = None,
    key: str | None = None,
) -> Draft:
    campaign = ctx.bundle.campaign
    language = campaign.language
    rejected = next(
        (f for f in files if f.outcome in (Outcome.REJECTED.value, Outcome.QUARANTINED.value)),
        None,
    )
    problems = _problem_lines(rejected, language) if rejected else []
    instance = (
        session.get(InstanceRow, rejected.instance_id)
        if rejected and rejected.instance_id
        else None
    )
    if who is None:
        unit = unit_of_sender(ctx.bundle, row.sender)
        assert unit is not None
        who = unit.name
    attachments: tuple[Attachment, ...] = ()
    deliverable_title = "报送材料" if language == "zh-CN" else "submission"
    due_text = ""
    if instance is not None:
        deliverable = campaign.deliverable(instance.deliverable_id)
        deliverable_title = deliverable.title
        due_text = format_due(instance.effective_due, campaign.zone, language)
        builder = ctx.builder(deliverable, instance.period, instance.effective_due)
        with_items(builder, session, [instance.unit_id])
        owner = ctx.bundle.units_by_id[instance.unit_id]
        name = builder.attachment_name(owner)
        attachments = (Attachment(name, builder.workbook(owner), XLSX_TYPE),)
    context = {
        "who": who,
        "deliverable_title": deliverable_title,
        "received_text": format_moment(row.received_at, campaign.zone, language),
        "filename": rejected.filename if rejected else None,
        "reason": _reason(row, rejected, language),
        "problems": problems[:MAX_LISTED],
        "more": max(0, len(problems) - MAX_LISTED),
        "attached_template": attachments[0].filename if attachments else None,
        "due_text": due_text,
        "coordinator": campaign.roles.coordinator,
    }
    return _as_draft(
        ctx, row, "rejection", context,
        instance_id=instance.id if instance else None, attachments=attachments, key=key,
    )  # fmt: skip


def _reason(row: IntakeRow, file: IntakeFileRow | None, language: Any) -> str:
    """The reason as a clause: the templates end the sentence themselves (a reason that ended
    in its own 。 made every quarantine read “…。。”)."""
    return _reason_text(row, file, language).rstrip("。. ")


def _reason_text(row: IntakeRow, file: IntakeFileRow | None, language: Any) -> str:
    if row.reason in (TOO_MANY_PARTS, TOO_DEEP):
        file = None  # the message was not read to its end: what to do about that comes first
    code = (file.reason if file else None) or row.reason or "no-workbook"
    if code.startswith("file:"):
        detail = file.problems[0] if file and file.problems else {}
        return describe_file_reason(code.removeprefix("file:"), detail, language)
    if code == "invalid" and file is not None:
        return REASONS[language]["invalid"].format(count=len(file.problems))
    template = REASONS[language].get(code, code)
    detail = (file.problems[0] if file and file.problems else None) or row.detail or {}
    try:
        return template.format(**detail)
    except (KeyError, IndexError):
        return template


def _problem_lines(file: IntakeFileRow, language: Any) -> list[str]:
    if file.reason != "invalid":
        return []
    return [
        CellProblem(p["sheet"], p["cell"], p["code"], p["found"], p["detail"]).describe(language)
        for p in file.problems
    ]


def _as_draft(
    ctx: AnswerContext,
    row: IntakeRow,
    kind: str,
    context: dict[str, Any],
    *,
    instance_id: int | None,
    attachments: tuple[Attachment, ...],
    key: str | None = None,
) -> Draft:
    key = key or answer_key(row.id)
    campaign = ctx.bundle.campaign
    rendered = render_message(ctx.env, campaign.language, kind, context)
    coordinator = campaign.roles.coordinator
    sender = Address(coordinator.name, str(coordinator.email))
    recipient = str(row.sender)
    headers = {"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-replied",
               "X-Duban-Key": key}  # fmt: skip
    if row.message_id:
        headers["In-Reply-To"] = row.message_id
        headers["References"] = row.message_id

    def compose(message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            sender=sender, to=(Address("", recipient),), subject=rendered.subject,
            text=rendered.text, html=rendered.html, attachments=attachments,
            message_id=message_id, date=ctx.now, headers=headers,
        )  # fmt: skip

    return Draft(
        key=key, kind=kind, campaign_id=campaign.id, instance_id=instance_id,
        recipients=(recipient,), subject=rendered.subject, compose=compose,
    )  # fmt: skip
