"""The coordinator's review of held items (待核): list them, accept or reject each one.

Held files are kept byte for byte in the raw store; accepting one reads it again (in the
isolated workers), identifies the unit from its metadata without the sender check the
coordinator has just vouched for, and validates it like any other submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DubanError
from ..ledger.schema import IntakeFileRow, IntakeRow
from ..ledger.store import append_event
from ..xlsx.metadata import identity_of
from .decide import REASONS, Identified, Outcome, Verdict
from .files import FileRejected, sniff
from .pipeline import Intake, accept_or_reject


@dataclass(frozen=True)
class HeldItem:
    file_id: int
    intake_id: int
    received_at: datetime
    sender: str | None
    subject: str | None
    filename: str | None
    reason: str


def held_items(session: Session, intake: Intake) -> list[HeldItem]:
    language = intake.bundle.campaign.language
    rows = session.execute(
        select(IntakeFileRow, IntakeRow)
        .join(IntakeRow, IntakeRow.id == IntakeFileRow.intake_id)
        .where(
            IntakeFileRow.outcome == Outcome.HELD.value,
            IntakeRow.campaign_id == intake.bundle.campaign.id,
        )
        .order_by(IntakeRow.received_at)
    ).all()
    return [
        HeldItem(
            f.id, r.id, r.received_at, r.sender, r.subject, f.filename, _described(f, r, language)
        )
        for f, r in rows
    ]


def _described(file: IntakeFileRow, row: IntakeRow, language: str) -> str:
    code = file.reason or row.reason or ""
    template = REASONS["en" if language == "en" else "zh-CN"].get(code, code)
    detail = file.problems[0] if file.problems else row.detail
    try:
        return template.format(**detail)
    except (KeyError, IndexError):
        return template


def _held(session: Session, file_id: int) -> tuple[IntakeFileRow, IntakeRow]:
    file = session.get(IntakeFileRow, file_id)
    if file is None or file.outcome != Outcome.HELD.value:
        raise DubanError(f"no held item {file_id}", hint="`duban review` lists the held items")
    return file, session.get_one(IntakeRow, file.intake_id)


def accept_held(session: Session, intake: Intake, file_id: int, actor: str) -> Verdict:
    file, row = _held(session, file_id)
    data = intake.store.get(file.sha256)
    result = intake.reader.read_many([(data, sniff(data, file.filename))])[0]
    if isinstance(result, FileRejected):
        raise DubanError(f"held item {file_id} cannot be read: {result}")
    metadata = result.metadata or {}
    unit = intake.bundle.units_by_id.get(metadata.get("unit_id", ""))
    if unit is None or metadata.get("campaign") != intake.bundle.campaign.id:
        raise DubanError(
            f"held item {file_id} names no unit of {intake.bundle.campaign.id}",
            hint="ask the unit to fill in and send the template it received",
        )
    who = Identified(unit, identity_of(metadata), metadata.get("template_version", ""))
    verdict = accept_or_reject(session, intake, row, file, who, result)
    _record(session, intake, file, row, verdict, actor, note=None)
    return verdict


def reject_held(session: Session, intake: Intake, file_id: int, actor: str, note: str) -> None:
    file, row = _held(session, file_id)
    verdict = Verdict(Outcome.REJECTED, "reviewed-rejected", {"note": note})
    _record(session, intake, file, row, verdict, actor, note=note)


def _record(
    session: Session,
    intake: Intake,
    file: IntakeFileRow,
    row: IntakeRow,
    verdict: Verdict,
    actor: str,
    note: str | None,
) -> None:
    file.outcome, file.reason = verdict.outcome.value, verdict.code
    if verdict.code != "invalid":
        file.problems = [dict(verdict.detail)] if verdict.detail else []
    file.reviewed_by, file.reviewed_at = actor, intake.clock.now()
    row.status, row.reason, row.detail = verdict.outcome.value, verdict.code, dict(verdict.detail)
    append_event(
        session, intake.clock, f"review.{verdict.outcome.value}", campaign_id=row.campaign_id,
        subject=f"intake-file/{file.id}", actor=actor, payload={"note": note, "code": verdict.code},
    )  # fmt: skip
