"""The coordinator's review of what intake held (待核): list it, open it, decide it.

Two kinds of thing wait for a person, with ids that say which is which:

- a held *file* (``F34``): a workbook whose sender or token is in doubt, another unit's
  template, or a workbook without duban's template from an unknown address. It is accepted as
  a unit's submission for a deliverable period (named by the coordinator when the file's own
  metadata does not name them), rejected with a note that is sent to its sender (once, through
  the ledger's message intents, like every answer), or dismissed (nothing is sent);
- a held *message* (``M12``) that holds no held file: no workbook at all, from an unknown
  sender. It is attached to a unit as correspondence (no submission) or dismissed.

Every decision records who made it, when and why, and is an event in the audit trail. Making
the same decision again changes nothing (a rejection note not yet sent is sent then); making
another decision about something already decided is refused. Held files and messages are kept
byte for byte in the raw store; ``open_item`` gives them back for the coordinator to look at.
Accepting a file reads it again (in the isolated workers) and validates it like any other
submission.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.xlsx.token import APPEAL, BALLOT, SCORESHEET, TemplateIdentity
from duban.clock import Clock
from duban.errors import DubanError
from duban.implement.duties import find_duty
from duban.implement.intake.answers import AnswerContext, review_rejection_draft
from duban.implement.intake.appeals import APPEAL_RECORDED, record_mailed_appeal
from duban.implement.intake.ballots import BALLOT_RECORDED, record_mailed_ballot
from duban.implement.intake.decide import (
    REASONS,
    EvaluatorBallot,
    Identified,
    InspectionSheet,
    Outcome,
    UnitAppeal,
    Verdict,
    identify,
)
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.reasons import describe as describe_file_reason
from duban.implement.intake.scoresheets import SCORES_RECORDED, record_mailed_scoresheet
from duban.implement.intake.sniff import sniff
from duban.implement.intake.submitting import accept_or_reject
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import IntakeFileRow, IntakeRow, SubmissionRow
from duban.ledger.store import HELD, append_event, held_files, held_messages
from duban.model.campaign import Language
from duban.model.loader import CampaignBundle
from duban.selfcheck.lists import record_problem_lists
from duban.sending.dispatch import Outcome as SendOutcome
from duban.sending.dispatch import dispatch

MESSAGE, FILE = "M", "F"
ATTACHED, DISMISSED = "attached", "dismissed"
LIST_HINT = "`duban review CAMPAIGN.yaml` lists the held messages (M…) and files (F…)"
LIST_HINT_ZH = "`duban review CAMPAIGN.yaml` 可列出待核的邮件（M…）和文件（F…）"
_STATE_ZH = {
    "accepted": "已受理",
    "rejected": "已退回",
    "held": "待核",
    "quarantined": "已隔离",
    "duplicate": "重复报送",
    "ignored": "已忽略",
    "attached": "已归到单位",
    "dismissed": "已搁置",
}
"""The states of a message or file as the office says them, for the Chinese errors."""
_DONE_ZH = {"accepted": "受理", "rejected": "退回", "attached to a unit": "归到单位"}
_ACTION_ZH = {
    "reject it (its sender reads the note)": "退回的理由（发件人会看到这段说明）",
    "attach it": "归到单位的理由",
    "dismiss it": "搁置的理由",
}
_ITEM = re.compile(r"([MF])(\d{1,18})")
_PRIORITY = (Outcome.ACCEPTED.value, Outcome.HELD.value, Outcome.QUARANTINED.value,
             Outcome.REJECTED.value, Outcome.DUPLICATE.value, DISMISSED)  # fmt: skip
"""A record's status after one of its files is decided: its most telling file's outcome."""


@dataclass(frozen=True)
class ItemId:
    """``M12`` (intake record 12, a message) or ``F34`` (intake file 34)."""

    kind: str
    number: int

    def __str__(self) -> str:
        return f"{self.kind}{self.number}"


def parse_item(value: str | int | ItemId) -> ItemId:
    """An id as the coordinator typed it (``F34``, ``m12``); a bare int is a file id."""
    if isinstance(value, ItemId):
        return value
    if isinstance(value, int):
        return ItemId(FILE, value)
    text = value.strip().upper()
    found = _ITEM.fullmatch(text)
    if found is not None:
        return ItemId(found.group(1), int(found.group(2)))
    if text.isdigit():
        raise DubanError(
            f"{value!r} does not say what it is: say M{text} for a message, F{text} for a file",
            hint=LIST_HINT,
            zh=f"“{value}”没有说明是邮件还是文件：邮件请写 M{text}，文件请写 F{text}",
            zh_hint=LIST_HINT_ZH,
        )
    raise DubanError(
        f"{value!r} is not an item id: ids are M<number> for a message, F<number> for a file",
        hint=LIST_HINT,
        zh=f"“{value}”不是收件编号：邮件编号为 M 加数字，文件编号为 F 加数字",
        zh_hint=LIST_HINT_ZH,
    )


@dataclass(frozen=True)
class HeldItem:
    id: str
    intake_id: int
    file_id: int | None
    received_at: datetime
    sender: str | None
    subject: str | None
    filename: str | None
    reason: str
    code: str

    @property
    def kind(self) -> str:
        return "file" if self.file_id is not None else "message"

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "received": local_time(self.received_at, zone),
            "sender": self.sender, "subject": self.subject, "file": self.filename,
            "reason": self.reason, "code": self.code,
        }  # fmt: skip


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-03-04 18:00``: the campaign's local time, to the minute, as the office reads it."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def held_items(session: Session, bundle: CampaignBundle) -> list[HeldItem]:
    """Every held file and every held message that holds no held file, oldest first."""
    language = bundle.campaign.language
    items: list[tuple[tuple[datetime, int, int], HeldItem]] = []
    for f, r in session.execute(held_files(bundle.campaign.id)).tuples():
        item = HeldItem(
            str(ItemId(FILE, f.id)), r.id, f.id, r.received_at, r.sender, r.subject, f.filename,
            describe(f.reason or r.reason, f.problems[0] if f.problems else r.detail, r.sender,
                     language),
            f.reason or r.reason or "",
        )  # fmt: skip
        items.append(((r.received_at, r.id, f.index), item))
    messages = list(session.scalars(held_messages(bundle.campaign.id)))
    names = _file_names(session, [r.id for r in messages])
    for r in messages:
        item = HeldItem(
            str(ItemId(MESSAGE, r.id)), r.id, None, r.received_at, r.sender, r.subject,
            ", ".join(names.get(r.id, [])) or None,
            describe(r.reason, r.detail, r.sender, language), r.reason or "",
        )  # fmt: skip
        items.append(((r.received_at, r.id, -1), item))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def _file_names(session: Session, intake_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(intake_ids), 500):
        query = (
            select(IntakeFileRow.intake_id, IntakeFileRow.filename)
            .where(IntakeFileRow.intake_id.in_(intake_ids[start : start + 500]))
            .order_by(IntakeFileRow.intake_id, IntakeFileRow.index)
        )
        for intake_id, name in session.execute(query).tuples():
            names.setdefault(intake_id, []).append(name or "?")
    return names


def describe(
    code: str | None, detail: Mapping[str, Any] | None, sender: str | None, language: Language
) -> str:
    """A reason code and its detail in the campaign's language; the sender fills a reason
    recorded without one (a message with no workbook from an unknown sender)."""
    code = code or ""
    detail = dict(detail or {})
    if code.startswith("file:"):
        try:
            return describe_file_reason(code.removeprefix("file:"), detail, language)
        except ValueError:
            return code
    template = REASONS[language].get(code, code)
    try:
        return template.format(**{"sender": sender or "?", **detail})
    except (KeyError, IndexError, ValueError):
        return template


# ------------------------------------------------------------------------------ finding items


def _one_decision_at_a_time(session: Session, bundle: CampaignBundle) -> None:
    """Decide under the campaign's review lock, reading afresh: two coordinators deciding one
    item at once (two browsers on the board, the board and a terminal) would otherwise both
    find it held and both decide it (two events, and a file both accepted and set aside)."""
    hold_write_lock(session.connection(), f"review:{bundle.campaign.id}")
    session.expire_all()


def _file(
    session: Session, bundle: CampaignBundle, item: ItemId
) -> tuple[IntakeFileRow, IntakeRow]:
    file = session.get(IntakeFileRow, item.number) if item.kind == FILE else None
    row = session.get(IntakeRow, file.intake_id) if file is not None else None
    if file is None or row is None or row.campaign_id != bundle.campaign.id:
        raise DubanError(
            f"no file {item} in campaign {bundle.campaign.id}",
            hint=LIST_HINT,
            zh=f"活动 {bundle.campaign.id} 中没有文件 {item}",
            zh_hint=LIST_HINT_ZH,
        )
    return file, row


def _message(session: Session, bundle: CampaignBundle, item: ItemId) -> IntakeRow:
    row = session.get(IntakeRow, item.number) if item.kind == MESSAGE else None
    if row is None or row.campaign_id != bundle.campaign.id:
        raise DubanError(
            f"no message {item} in campaign {bundle.campaign.id}",
            hint=LIST_HINT,
            zh=f"活动 {bundle.campaign.id} 中没有邮件 {item}",
            zh_hint=LIST_HINT_ZH,
        )
    return row


def _want_file(item: ItemId, done: str) -> None:
    if item.kind != FILE:
        raise DubanError(
            f"{item} is a message, not a file: only a held file can be {done}",
            hint=f"attach a held message to a unit (--attach {item} --unit ID --note …) "
            f"or dismiss it (--dismiss {item} --note …)",
            zh=f"{item} 是邮件，不是文件：只有待核的文件才能{_DONE_ZH.get(done, done)}",
            zh_hint=f"待核的邮件可以归到某个单位（--attach {item} --unit ID --note …），"
            f"或搁置（--dismiss {item} --note …）",
        )


def _want_message(item: ItemId, done: str) -> None:
    if item.kind != MESSAGE:
        raise DubanError(
            f"{item} is a file, not a message: only a held message can be {done}",
            hint=f"accept a held file as a submission (--accept {item}) or reject it "
            f"(--reject {item} --note …)",
            zh=f"{item} 是文件，不是邮件：只有待核的邮件才能{_DONE_ZH.get(done, done)}",
            zh_hint=f"待核的文件可以作为报送受理（--accept {item}），"
            f"或退回（--reject {item} --note …）",
        )


def _held_files_of(session: Session, row: IntakeRow) -> list[IntakeFileRow]:
    return list(
        session.scalars(
            select(IntakeFileRow)
            .where(IntakeFileRow.intake_id == row.id, IntakeFileRow.outcome == HELD)
            .order_by(IntakeFileRow.index)
        )
    )


def _not_held(
    item: ItemId,
    state: str,
    by: str | None,
    at: datetime | None,
    zone: ZoneInfo,
    reasons: tuple[str, str] | None = None,
) -> DubanError:
    """``reasons``: why it is in ``state``, in English (the campaign's words) and Chinese."""
    what = f"{state} ({reasons[0]})" if reasons else state
    decided = f" by {by} on {local_time(at, zone)}" if by and at else ""
    why_zh = f"（{reasons[1]}）" if reasons else ""
    decided_zh = f"，由 {by} 于 {local_time(at, zone)} 处理" if by and at else ""
    return DubanError(
        f"{item} is not held: it was {what}{decided}",
        hint=LIST_HINT,
        zh=f"{item} 不是待核状态：{_STATE_ZH.get(state, state)}{why_zh}{decided_zh}",
        zh_hint=LIST_HINT_ZH,
    )


def _needs_note(note: str, action: str) -> str:
    if not note.strip():
        raise DubanError(
            f"say why with --note to {action}",
            hint="the note is kept with it",
            zh=f"请用 --note 写明{_ACTION_ZH.get(action, action)}",
            zh_hint="这段说明会随处理记录一并保存",
        )
    return note.strip()


# ------------------------------------------------------------------------------ opening


def open_item(
    session: Session, bundle: CampaignBundle, store: RawStore, value: str | ItemId
) -> tuple[str, bytes]:
    """A name to save it under and the bytes: a message's raw .eml, a file's own bytes.
    Any message or file of the campaign opens, held or not."""
    item = parse_item(value)
    if item.kind == FILE:
        file, _row = _file(session, bundle, item)
        return f"{item}-{safe_name(file.filename, 'file')}", store.get(file.sha256)
    row = _message(session, bundle, item)
    files = list(session.scalars(select(IntakeFileRow).where(IntakeFileRow.intake_id == row.id)))
    if len(files) == 1 and files[0].sha256 == row.raw_sha256:  # a file from a drop folder
        return f"{item}-{safe_name(files[0].filename, 'file')}", store.get(row.raw_sha256)
    return f"{item}.eml", store.get(row.raw_sha256)


def safe_name(name: str | None, fallback: str) -> str:
    """A sender's file name made harmless to write: no folders, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return base[-120:] or fallback


# ------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class Decision:
    """What became of a held item; ``already`` when the same decision had been made before."""

    item: str
    outcome: str
    said: str
    already: bool = False
    by: str | None = None
    at: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def accept_held(
    session: Session,
    intake: Intake,
    value: str | int | ItemId,
    actor: str,
    *,
    unit_id: str | None = None,
    deliverable_id: str | None = None,
    period: str | None = None,
) -> Verdict:
    """Read the held file again and take it as a unit's submission for a deliverable period:
    the ones named here, else the ones its metadata names (without the sender check the
    coordinator has just vouched for). Validated like any other submission: the verdict may
    still be a rejection (invalid cells) or a duplicate."""
    item = parse_item(value)
    _want_file(item, "accepted")
    bundle = intake.bundle
    _one_decision_at_a_time(session, bundle)
    file, row = _file(session, bundle, item)
    if file.outcome != HELD:
        if file.outcome == Outcome.ACCEPTED.value and file.reason in _RECORDED:
            detail = dict(file.problems[0]) if file.problems else {}
            return Verdict(Outcome.ACCEPTED, file.reason, {**detail, "already": True})
        if file.outcome == Outcome.ACCEPTED.value and file.reviewed_by is not None:
            version = session.scalar(
                select(SubmissionRow.version).where(SubmissionRow.intake_file_id == file.id)
            )
            return Verdict(Outcome.ACCEPTED, "accepted", {"version": version, "already": True})
        problem = file.problems[0] if file.problems else {}
        reasons = (describe(file.reason, problem, row.sender, bundle.campaign.language),
                   describe(file.reason, problem, row.sender, "zh-CN"))  # fmt: skip
        raise _not_held(item, file.outcome, file.reviewed_by, file.reviewed_at,
                        bundle.campaign.zone, reasons)  # fmt: skip
    data = intake.store.get(file.sha256)
    result = intake.reader.read_many([(data, sniff(data, file.filename))])[0]
    if isinstance(result, FileRejected):
        raise DubanError(
            f"held file {item} cannot be read: {result}",
            zh=f"待核文件 {item} 无法读取："
            f"{describe_file_reason(result.code, result.detail, 'zh-CN')}",
        )
    if (result.metadata or {}).get("kind") in (SCORESHEET, BALLOT, APPEAL):
        return _accept_vouched(session, intake, item, file, row, result, actor)
    who = _identified(session, bundle, item, result.metadata or {}, unit_id, deliverable_id,
                      period)  # fmt: skip
    verdict = accept_or_reject(session, bundle, row, file, who, result,
                               clock=intake.clock)  # fmt: skip
    identity = who.identity
    _decide_file(
        session, intake.clock, item, file, row, verdict, actor, note=None,
        payload={"unit": who.unit.id, "deliverable": identity.deliverable_id,
                 "period": identity.period, **verdict.detail},
    )  # fmt: skip
    if verdict.outcome == Outcome.ACCEPTED:
        record_problem_lists(session, bundle, intake.clock, actor=actor)
    return verdict


_RECORDED = (SCORES_RECORDED, BALLOT_RECORDED, APPEAL_RECORDED)
"""The verdicts of a held scoresheet, ballot or appeal form accepted: accepting again says so."""


def _accept_vouched(
    session: Session,
    intake: Intake,
    item: ItemId,
    file: IntakeFileRow,
    row: IntakeRow,
    parsed: ParsedWorkbook,
    actor: str,
) -> Verdict:
    """A held scoresheet, ballot or appeal form the coordinator vouches for (sent from an
    address the register or roster does not give): recorded as the team member's, the
    evaluator's or the unit's own would be, checked the same way; its token must still
    verify."""
    bundle, clock = intake.bundle, intake.clock
    who = identify(parsed.metadata, row.sender, bundle, intake.secret)
    if isinstance(who, InspectionSheet):
        verdict = record_mailed_scoresheet(session, bundle, clock, row, file, who, parsed,
                                           vouched_by=actor)  # fmt: skip
        subject = {"unit": who.identity.unit_id}
    elif isinstance(who, EvaluatorBallot):
        verdict = record_mailed_ballot(session, bundle, clock, row, file, who, parsed,
                                       vouched_by=actor)  # fmt: skip
        subject = {"evaluator": who.identity.evaluator_id}
    elif isinstance(who, UnitAppeal):
        verdict = record_mailed_appeal(session, bundle, clock, row, file, who, parsed,
                                       vouched_by=actor)  # fmt: skip
        subject = {"unit": who.unit.id}
    else:
        raise DubanError(
            f"held file {item} is a scoresheet, ballot or appeal form whose check code does "
            "not verify; it cannot be recorded",
            hint="ask the sender for the form they were sent, filled in",
            zh=f"待核文件 {item} 是校验码不符的评分表、测评表或复核申请表，不能记录",
            zh_hint="请发件人使用下发的表格填写后重新发送",
        )  # fmt: skip
    _decide_file(session, clock, item, file, row, verdict, actor, note=None, payload=subject)
    return verdict


def _identified(
    session: Session,
    bundle: CampaignBundle,
    item: ItemId,
    metadata: Mapping[str, str],
    unit_id: str | None,
    deliverable_id: str | None,
    period: str | None,
) -> Identified:
    """The unit, deliverable and period the file counts for: each as named by the coordinator,
    else as the metadata of a template of this campaign names it."""
    campaign = bundle.campaign
    ours = metadata.get("campaign") == campaign.id
    named = {"unit_id": unit_id, "deliverable": deliverable_id, "period": period}
    chosen = {k: v or (metadata.get(k) if ours else None) for k, v in named.items()}
    if not chosen["unit_id"]:
        raise DubanError(
            f"{item} names no unit of {campaign.id} (its workbook has no template of this "
            "campaign)",
            hint=f"say whose submission it is: --accept {item} --unit ID --deliverable ID "
            "[--period P]",
            zh=f"{item} 没有写明是活动 {campaign.id} 哪个单位的报送"
            "（其工作簿不是本活动下发的模板）",
            zh_hint=f"请写明是哪个单位的报送：--accept {item} --unit ID --deliverable ID "
            "[--period P]",
        )
    unit = bundle.units_by_id.get(chosen["unit_id"] or "")
    if unit is None:
        raise DubanError(
            f"no unit {chosen['unit_id']} on the roster of {campaign.id}",
            hint="`duban status --units` lists the units and their duties",
            zh=f"活动 {campaign.id} 的花名册中没有单位“{chosen['unit_id']}”",
            zh_hint="`duban status --units` 可列出各单位及其报送任务",
        )
    ids = [d.id for d in campaign.deliverables]
    if chosen["deliverable"] not in ids:
        what = f"no deliverable {chosen['deliverable']}" if chosen["deliverable"] else "none"
        what_zh = (
            f"文件中写的“{chosen['deliverable']}”不是活动 {campaign.id} 的报送事项"
            if chosen["deliverable"]
            else f"文件中没有写明活动 {campaign.id} 的报送事项"
        )
        raise DubanError(
            f"{item}: which deliverable does it answer? The file names {what} of {campaign.id}",
            hint=f"add --deliverable with one of: {', '.join(ids)}",
            zh=f"{item}：报送的是哪个报送事项？{what_zh}",
            zh_hint=f"请加上 --deliverable，可选：{'、'.join(ids)}",
        )
    deliverable = campaign.deliverable(str(chosen["deliverable"]))
    duty = find_duty(session, bundle, deliverable.id, unit.id, chosen["period"])
    form = campaign.form_of(deliverable)
    version = str(form.version)
    if ours and metadata.get("deliverable") == deliverable.id:
        version = metadata.get("template_version", version)
    number = int(version) if version.isdigit() and int(version) >= 1 else form.version
    identity = TemplateIdentity(campaign.id, deliverable.id, duty.period, unit.id, number)
    return Identified(unit, identity, version)


def reject_held(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    value: str | int | ItemId,
    actor: str,
    note: str,
) -> Decision:
    """Reject a held file with the coordinator's note (``send_rejection`` sends it)."""
    item = parse_item(value)
    _want_file(item, "rejected")
    note = _needs_note(note, "reject it (its sender reads the note)")
    _one_decision_at_a_time(session, bundle)
    file, row = _file(session, bundle, item)
    if file.outcome == Outcome.REJECTED.value and file.reason == "reviewed-rejected":
        return _already(bundle, item, file.outcome, file.reason, file.problems, row, file)
    if file.outcome != HELD:
        raise _not_held(
            item, file.outcome, file.reviewed_by, file.reviewed_at, bundle.campaign.zone
        )
    verdict = Verdict(Outcome.REJECTED, "reviewed-rejected", {"note": note})
    _decide_file(session, clock, item, file, row, verdict, actor, note=note)
    return Decision(str(item), file.outcome, verdict.describe(bundle.campaign.language),
                    by=actor, at=file.reviewed_at)  # fmt: skip


def send_rejection(
    session: Session,
    bundle: CampaignBundle,
    secret: bytes,
    clock: Clock,
    mailer: Mailer,
    env: Environment,
    value: str | int | ItemId,
) -> SendOutcome | None:
    """Send the rejection of a file rejected in review to its sender, exactly once: it is a
    message intent in the ledger keyed by the file (``dispatch`` commits). None when the
    message had no sender to answer."""
    item = parse_item(value)
    file, _row = _file(session, bundle, item)
    if file.reason != "reviewed-rejected":
        raise DubanError(
            f"{item} was not rejected in review",
            hint=LIST_HINT,
            zh=f"{item} 不是在审核中退回的",
            zh_hint=LIST_HINT_ZH,
        )
    ctx = AnswerContext(bundle, secret, env, clock.now())
    draft = review_rejection_draft(session, ctx, file.id)
    if draft is None:
        return None
    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    [outcome] = dispatch(session, [draft], mailer, clock, message_id_domain=domain)
    return outcome


def attach_message(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    value: str | ItemId,
    unit_id: str,
    actor: str,
    note: str,
) -> Decision:
    """File a held message under a unit as correspondence: no submission, nothing sent."""
    item = parse_item(value)
    _want_message(item, "attached to a unit")
    note = _needs_note(note, "attach it")
    _one_decision_at_a_time(session, bundle)
    row = _message(session, bundle, item)
    unit = bundle.units_by_id.get(unit_id)
    if unit is None:
        raise DubanError(f"no unit {unit_id} on the roster of {bundle.campaign.id}",
                         hint="`duban status --units` lists the units",
                         zh=f"活动 {bundle.campaign.id} 的花名册中没有单位“{unit_id}”",
                         zh_hint="`duban status --units` 可列出各单位")  # fmt: skip
    if row.status == ATTACHED and row.unit_id == unit.id:
        return _already(bundle, item, row.status, row.reason, [row.detail], row, row)
    _message_held(session, bundle, item, row)
    detail = {"unit_name": unit.name, "note": note}
    _decide_message(session, clock, item, row, ATTACHED, "reviewed-attached", detail, actor,
                    payload={"unit": unit.id})  # fmt: skip
    row.unit_id = unit.id
    return Decision(str(item), ATTACHED, describe(row.reason, detail, row.sender,
                    bundle.campaign.language), by=actor, at=row.reviewed_at)  # fmt: skip


def dismiss(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    value: str | ItemId,
    actor: str,
    note: str,
) -> Decision:
    """Set a held message or file aside with a reason: nothing submitted, nothing sent."""
    item = parse_item(value)
    note = _needs_note(note, "dismiss it")
    detail = {"note": note}
    language = bundle.campaign.language
    _one_decision_at_a_time(session, bundle)
    if item.kind == FILE:
        file, row = _file(session, bundle, item)
        if file.outcome == DISMISSED:
            return _already(bundle, item, file.outcome, file.reason, file.problems, row, file)
        if file.outcome != HELD:
            raise _not_held(item, file.outcome, file.reviewed_by, file.reviewed_at,
                            bundle.campaign.zone)  # fmt: skip
        verdict = Verdict(Outcome.HELD, "reviewed-dismissed", detail)  # outcome set below
        _decide_file(session, clock, item, file, row, verdict, actor, note=note,
                     outcome=DISMISSED)  # fmt: skip
        return Decision(str(item), DISMISSED, describe(file.reason, detail, row.sender, language),
                        by=actor, at=file.reviewed_at)  # fmt: skip
    row = _message(session, bundle, item)
    if row.status == DISMISSED:
        return _already(bundle, item, row.status, row.reason, [row.detail], row, row)
    _message_held(session, bundle, item, row)
    _decide_message(session, clock, item, row, DISMISSED, "reviewed-dismissed", detail, actor)
    return Decision(str(item), DISMISSED, describe(row.reason, detail, row.sender, language),
                    by=actor, at=row.reviewed_at)  # fmt: skip


def _message_held(session: Session, bundle: CampaignBundle, item: ItemId, row: IntakeRow) -> None:
    """Refuse a message that is not itself held: decided already, or holding held files."""
    files = _held_files_of(session, row)
    if files:
        ids = ", ".join(str(ItemId(FILE, f.id)) for f in files)
        raise DubanError(
            f"{item} is held for its files {ids}: decide those",
            hint=f"--accept {ids.split(', ')[0]} … or --reject {ids.split(', ')[0]} --note …",
            zh=f"{item} 因其中的文件 {ids.replace(', ', '、')} 待核：请先处理这些文件",
            zh_hint=f"--accept {ids.split(', ')[0]} … 或 --reject {ids.split(', ')[0]} --note …",
        )
    if row.status != HELD:
        raise _not_held(item, row.status, row.reviewed_by, row.reviewed_at, bundle.campaign.zone)


def _already(
    bundle: CampaignBundle,
    item: ItemId,
    outcome: str,
    reason: str | None,
    problems: Iterable[Mapping[str, Any]],
    row: IntakeRow,
    decided: IntakeRow | IntakeFileRow,
) -> Decision:
    detail = next(iter(problems), {})
    said = describe(reason, detail, row.sender, bundle.campaign.language)
    return Decision(str(item), outcome, said, already=True, by=decided.reviewed_by,
                    at=decided.reviewed_at)  # fmt: skip


def _decide_message(
    session: Session,
    clock: Clock,
    item: ItemId,
    row: IntakeRow,
    status: str,
    reason: str,
    detail: dict[str, Any],
    actor: str,
    payload: dict[str, Any] | None = None,
) -> None:
    row.status, row.reason, row.detail = status, reason, detail
    row.reviewed_by, row.reviewed_at = actor, clock.now()
    append_event(
        session, clock, f"review.{status}", campaign_id=row.campaign_id,
        subject=f"intake/{row.id}", actor=actor,
        payload={"item": str(item), "note": detail.get("note"), "sender": row.sender,
                 **(payload or {})},
    )  # fmt: skip


def _decide_file(
    session: Session,
    clock: Clock,
    item: ItemId,
    file: IntakeFileRow,
    row: IntakeRow,
    verdict: Verdict,
    actor: str,
    note: str | None,
    outcome: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    file.outcome, file.reason = outcome or verdict.outcome.value, verdict.code
    if verdict.code != "invalid":  # an invalid file keeps its list of cell problems
        file.problems = [dict(verdict.detail)] if verdict.detail else []
    file.reviewed_by, file.reviewed_at = actor, clock.now()
    _resettle(session, row)
    append_event(
        session, clock, f"review.{file.outcome}", campaign_id=row.campaign_id,
        subject=f"intake-file/{file.id}", actor=actor,
        payload={"item": str(item), "note": note, "code": verdict.code, "sender": row.sender,
                 **(payload or {})},
    )  # fmt: skip


def _resettle(session: Session, row: IntakeRow) -> None:
    """The record's status once one of its files is decided: its most telling file's."""
    files = list(session.scalars(select(IntakeFileRow).where(IntakeFileRow.intake_id == row.id)))
    for outcome in _PRIORITY:
        chosen = next((f for f in files if f.outcome == outcome), None)
        if chosen is not None:
            row.status, row.reason = chosen.outcome, chosen.reason
            keep = chosen.problems and chosen.reason != "invalid"
            row.detail = dict(chosen.problems[0]) if keep else {}
            return
