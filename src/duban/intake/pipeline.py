"""From a source item to ledger facts: store, record, unpack, read, identify, validate, decide.

The order is the promise "nothing lost": the raw bytes are written to the content-addressed
store and an intake row is committed *before* anything parses them; each file found is stored
and recorded before it is read; reading happens in isolated workers; only then is anything
decided. A crash anywhere leaves the item unmarked in its source, and the next run finds its
rows by ``(source, ref)`` and ``(intake, index)`` and carries on without recording it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from ..ledger.store import append_event
from ..loader import CampaignBundle
from ..validation import validate_workbook
from .decide import Identified, Outcome, Verdict, identify, unit_of_sender
from .files import (
    WORKBOOK_KINDS,
    FileRejected,
    Kind,
    ParsedWorkbook,
    WorkbookReader,
    is_hostile,
    sniff,
    unpack_archive,
)
from .mime import ParsedMessage, read_message
from .model import FoundFile, RawItem
from .rawstore import RawStore

FINAL = frozenset(o.value for o in Outcome)
_PRIORITY = (Outcome.ACCEPTED, Outcome.HELD, Outcome.QUARANTINED, Outcome.REJECTED,
             Outcome.DUPLICATE, Outcome.IGNORED)  # fmt: skip


@dataclass
class Intake:
    """What intake needs, passed in: the campaign, the store, the reader, the secret, a clock."""

    bundle: CampaignBundle
    store: RawStore
    reader: WorkbookReader
    secret: bytes
    clock: Clock


@dataclass
class Candidate:
    """A stored, recorded file waiting to be read (or already decided without reading)."""

    row: IntakeFileRow
    found: FoundFile
    kind: Kind | None = None
    verdict: Verdict | None = None
    parsed: ParsedWorkbook | None = None


@dataclass
class BatchReport:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    intake_ids: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def receive(
    session: Session, intake: Intake, item: RawItem, message: ParsedMessage | None
) -> IntakeRow:
    """Store the raw bytes and record the item once; return its (possibly earlier) row."""
    sha = intake.store.put(item.data)
    row = session.scalars(
        select(IntakeRow).where(IntakeRow.source == item.source, IntakeRow.source_ref == item.ref)
    ).first()
    if row is not None:
        return row
    envelope = message.envelope if message is not None else None
    now = intake.clock.now()
    row = IntakeRow(
        campaign_id=intake.bundle.campaign.id,
        source=item.source,
        source_ref=item.ref,
        raw_sha256=sha,
        sender=_clip(envelope.sender if envelope else None, 254),
        subject=envelope.subject if envelope else item.ref,
        message_id=_clip(envelope.message_id if envelope else None, 255),
        received_at=item.received_at or now,
        recorded_at=now,
        status="received",
    )
    first = _earlier_copy(session, sha)
    automatic = _automatic_reason(item) if item.is_message else None
    if automatic is not None:
        row.status, row.reason = Outcome.IGNORED.value, automatic
    elif first is not None:
        row.status, row.reason = Outcome.DUPLICATE.value, "duplicate-message"
        row.detail = {"first": first}
    session.add(row)
    session.flush()
    return row


def _automatic_reason(item: RawItem) -> str | None:
    """duban's own messages (an escalation to the coordinator's mailbox) and auto-replies
    (RFC 3834 Auto-Submitted, out-of-office) are recorded and set aside, never processed."""
    headers = BytesHeaderParser().parsebytes(item.data)
    if headers.get("X-Duban-Key"):
        return "own-message"
    submitted = str(headers.get("Auto-Submitted", "no")).strip().lower()
    if submitted != "no":
        return "automatic-reply"
    return None


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _earlier_copy(session: Session, sha: str) -> int | None:
    return session.scalar(
        select(func.min(IntakeRow.id)).where(
            IntakeRow.raw_sha256 == sha, IntakeRow.status != Outcome.DUPLICATE.value
        )
    )


def process_batch(session: Session, intake: Intake, items: Sequence[RawItem]) -> BatchReport:
    """Receive every item (committed first), then decide every item still undecided."""
    report = BatchReport(received=len(items))
    messages = {i.ref: read_message(i.data) if i.is_message else None for i in items}
    rows = [receive(session, intake, item, messages[item.ref]) for item in items]
    session.commit()
    by_ref = {(item.source, item.ref): item for item in items}
    pending = [r for r in rows if r.status == "received"]
    candidates = {
        r.id: _files_of(session, intake, r, by_ref[(r.source, r.source_ref)], messages)
        for r in pending
    }
    session.commit()
    _read_all(intake, [c for cs in candidates.values() for c in cs])
    for row in pending:
        _decide(session, intake, row, candidates[row.id])
    session.commit()
    for row in rows:
        report.count(row.status)
        report.intake_ids.append(row.id)
    return report


def _files_of(
    session: Session,
    intake: Intake,
    row: IntakeRow,
    item: RawItem,
    messages: dict[str, ParsedMessage | None],
) -> list[Candidate]:
    """Every file of the item, each stored and recorded (found again after a crash)."""
    message = messages[item.ref]
    if message is not None:
        found = message.files
    else:
        found = [FoundFile(item.ref.rsplit("/", 1)[-1], None, item.data, ())]
    expanded = _expand_archives(found)
    existing = {
        f.index: f
        for f in session.scalars(select(IntakeFileRow).where(IntakeFileRow.intake_id == row.id))
    }
    candidates = []
    for index, (file, verdict, kind) in enumerate(expanded):
        sha = intake.store.put(file.data)
        file_row = existing.get(index) or IntakeFileRow(
            intake_id=row.id, index=index, sha256=sha, filename=_clip(file.filename, 1000),
            content_type=_clip(file.content_type, 255), size=len(file.data),
            outcome="received", path=list(file.path),
        )  # fmt: skip
        if file_row.id is None:
            session.add(file_row)
        candidates.append(Candidate(file_row, file, kind, verdict))
    session.flush()
    return candidates


def _expand_archives(found: Sequence[FoundFile]) -> list[tuple[FoundFile, Verdict | None, Kind]]:
    """Sniff every file by content; unpack zip archives one level; keep everything found."""
    out: list[tuple[FoundFile, Verdict | None, Kind]] = []
    for file in found:
        kind = sniff(file.data, file.filename)
        if kind is not Kind.ZIP:
            out.append((file, None, kind))
            continue
        try:
            inner = unpack_archive(file.data)
        except FileRejected as rejected:
            out.append((file, _rejection(rejected), kind))
            continue
        out.append((file, Verdict(Outcome.IGNORED, "archive"), kind))
        for member in inner:
            nested = FoundFile(member.filename, member.content_type, member.data,
                               (*file.path, file.filename or "archive.zip"))  # fmt: skip
            out.append((nested, None, sniff(member.data, member.filename)))
    return out


def _rejection(rejected: FileRejected) -> Verdict:
    outcome = Outcome.QUARANTINED if is_hostile(rejected.code) else Outcome.REJECTED
    return Verdict(outcome, f"file:{rejected.code}", dict(rejected.detail))


def _read_all(intake: Intake, candidates: Sequence[Candidate]) -> None:
    """Read every workbook in the isolated workers, all at once (the reader pre-checks each
    file in this process before a worker parses it)."""
    to_read: list[Candidate] = []
    for candidate in candidates:
        if candidate.verdict is not None or candidate.row.outcome != "received":
            continue
        if candidate.kind not in WORKBOOK_KINDS:
            candidate.verdict = Verdict(Outcome.IGNORED, "not-a-workbook")
            continue
        to_read.append(candidate)
    results = intake.reader.read_many([(c.found.data, c.kind) for c in to_read])  # type: ignore[misc]
    for candidate, result in zip(to_read, results, strict=True):
        if isinstance(result, FileRejected):
            candidate.verdict = _rejection(result)
        else:
            candidate.parsed = result


def _decide(session: Session, intake: Intake, row: IntakeRow, candidates: list[Candidate]) -> None:
    envelope_sender = row.sender
    for candidate in candidates:
        if candidate.row.outcome != "received":
            continue  # decided before a crash
        verdict = candidate.verdict or _judge(session, intake, row, candidate, envelope_sender)
        candidate.row.outcome = verdict.outcome.value
        candidate.row.reason = verdict.code
        if verdict.code != "invalid":  # an invalid file keeps its list of cell problems
            candidate.row.problems = [dict(verdict.detail)] if verdict.detail else []
    _settle(intake, row, candidates)
    append_event(
        session, intake.clock, f"intake.{row.status}", campaign_id=row.campaign_id,
        subject=f"intake/{row.id}", payload={"reason": row.reason, "sender": row.sender},
    )  # fmt: skip


def _judge(
    session: Session, intake: Intake, row: IntakeRow, candidate: Candidate, sender: str | None
) -> Verdict:
    parsed = candidate.parsed
    assert parsed is not None
    claimed = (parsed.metadata or {}).get("unit_id")
    if claimed in intake.bundle.units_by_id:
        candidate.row.unit_id = claimed  # whom the file claims to be from, held or not
    who = identify(parsed.metadata, sender, intake.bundle, intake.secret)
    if isinstance(who, Verdict):
        if who.code == "no-metadata" and unit_of_sender(intake.bundle, sender) is None:
            return Verdict(Outcome.HELD, "unknown-sender-no-template", {"sender": sender or "?"})
        return who
    return accept_or_reject(session, intake, row, candidate.row, who, parsed)


def accept_or_reject(
    session: Session,
    intake: Intake,
    row: IntakeRow,
    file_row: IntakeFileRow,
    who: Identified,
    parsed: ParsedWorkbook,
) -> Verdict:
    """Validate an identified workbook; a valid one becomes the instance's next version."""
    identity = who.identity
    file_row.unit_id = who.unit.id
    instance = session.scalars(
        select(InstanceRow).where(
            InstanceRow.campaign_id == identity.campaign_id,
            InstanceRow.deliverable_id == identity.deliverable_id,
            InstanceRow.unit_id == identity.unit_id,
            InstanceRow.period == identity.period,
            InstanceRow.withdrawn.is_(False),
        )
    ).first()
    if instance is None:
        detail = {"unit_name": who.unit.name, "deliverable": identity.deliverable_id,
                  "period": identity.period}  # fmt: skip
        return Verdict(Outcome.REJECTED, "no-duty", detail)
    file_row.instance_id = instance.id
    form = intake.bundle.campaign.form(
        intake.bundle.campaign.deliverable(instance.deliverable_id).form
    )
    checked = validate_workbook(form, parsed.sheets, who.template_version)
    if not checked.valid:
        file_row.problems = [_problem_json(p) for p in checked.problems]
        return Verdict(Outcome.REJECTED, "invalid", {"count": len(checked.problems)})
    return _submit(session, row, file_row, instance, checked.rows, checked.row_count)


def _problem_json(problem: Any) -> dict[str, Any]:
    return {"sheet": problem.sheet, "cell": problem.cell, "code": problem.code,
            "found": problem.found, "detail": dict(problem.detail)}  # fmt: skip


def _submit(
    session: Session,
    row: IntakeRow,
    file_row: IntakeFileRow,
    instance: InstanceRow,
    rows: dict[str, list[dict[str, Any]]],
    row_count: int,
) -> Verdict:
    existing = list(
        session.scalars(select(SubmissionRow).where(SubmissionRow.instance_id == instance.id))
    )
    mine = next((s for s in existing if s.intake_file_id == file_row.id), None)
    if mine is not None:  # recorded before a crash
        return Verdict(Outcome.ACCEPTED, "accepted", {"version": mine.version})
    same = next((s for s in existing if s.sha256 == file_row.sha256), None)
    if same is not None:
        return Verdict(Outcome.DUPLICATE, "duplicate-file", {"version": same.version})
    version = max((s.version for s in existing), default=0) + 1
    session.add(
        SubmissionRow(
            instance_id=instance.id,
            version=version,
            intake_file_id=file_row.id,
            sha256=file_row.sha256,
            received_at=row.received_at,
            on_time=row.received_at < instance.effective_due,
            row_count=row_count,
            rows=rows,
        )
    )
    session.flush()
    return Verdict(Outcome.ACCEPTED, "accepted", {"version": version})


def _settle(intake: Intake, row: IntakeRow, candidates: list[Candidate]) -> None:
    """The record's status: the most telling outcome among its files."""
    outcomes = {c.row.outcome for c in candidates}
    for outcome in _PRIORITY:
        if outcome.value in outcomes and outcome is not Outcome.IGNORED:
            chosen = next(c for c in candidates if c.row.outcome == outcome.value)
            row.status, row.reason = outcome.value, chosen.row.reason
            row.detail = (
                chosen.row.problems[0]
                if chosen.row.problems and outcome.value != "rejected"
                else {}
            )
            return
    known = unit_of_sender(intake.bundle, row.sender) is not None
    if _automatic(row):
        row.status, row.reason = Outcome.IGNORED.value, "automatic-reply"
    elif known:
        row.status, row.reason = Outcome.REJECTED.value, "no-workbook"
    else:
        row.status, row.reason = Outcome.HELD.value, "no-workbook-unknown-sender"


def _automatic(row: IntakeRow) -> bool:
    subject = (row.subject or "").lower()
    return any(
        mark in subject for mark in ("自动回复", "auto-reply", "automatic reply", "out of office")
    )
