"""Submitting: an identified workbook validated once, and a valid one written as the next
version of the instance it names.

A workbook is validated exactly once. The worker that read it has usually validated it already,
against the form its metadata names (``prevalidate``); once the metadata is verified, that
result is used as it is when it was for the same deliverable and template version. Only when
the worker had no forms, or validated against another deliverable or version, is the grid
validated here, and that is then its only validation for the instance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.intake.decide import Identified, Outcome, Verdict
from duban.implement.intake.known import Known, Version
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.parts import PartFinding
from duban.implement.parts_check import check_chain
from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from duban.model.campaign import Language
from duban.model.forms import Form
from duban.model.loader import CampaignBundle
from duban.model.validation import Checked, validate_workbook
from duban.selfcheck.progress import Finding
from duban.selfcheck.reporting import read_progress, record_progress


def accept_or_reject(
    session: Session,
    bundle: CampaignBundle,
    row: IntakeRow,
    file_row: IntakeFileRow,
    who: Identified,
    parsed: ParsedWorkbook,
    known: Known | None = None,
    *,
    clock: Clock,
) -> Verdict:
    """Validate an identified workbook; a valid one becomes the instance's next version. A
    progress report on rectification items is also read against the unit's items: a refusal
    rejects it like an invalid cell, and an accepted one moves its items (``reporting``); so
    is a key task chain's report, against the key tasks and the partners' parts
    (``parts_check``)."""
    campaign = bundle.campaign
    known = known or Known(session)
    identity = who.identity
    file_row.unit_id = who.unit.id
    instance = known.instance(identity)
    if instance is None:
        detail = {"unit_name": who.unit.name, "deliverable": identity.deliverable_id,
                  "period": identity.period}  # fmt: skip
        return Verdict(Outcome.REJECTED, "no-duty", detail)
    file_row.instance_id = instance.id
    form = campaign.form_of(campaign.deliverable(instance.deliverable_id))
    checked = validation_of(form, instance.deliverable_id, who.template_version, parsed)
    if not checked.valid:
        file_row.problems = [_problem_json(p) for p in checked.problems]
        return Verdict(Outcome.REJECTED, "invalid", {"count": len(checked.problems)})
    chained = check_chain(session, bundle, instance.deliverable_id, instance.period, who.unit.id,
                          checked.rows, parsed.sheets, parsed.uncomputed)  # fmt: skip
    if chained:
        file_row.problems = [_refusal_json(f) for f in chained]
        return Verdict(Outcome.REJECTED, "invalid", {"count": len(chained)})
    deliverable = campaign.deliverable(instance.deliverable_id)
    reading = None
    if deliverable.rectification_progress is not None:
        reading = read_progress(
            session, campaign, deliverable, who.unit.id, checked.rows, parsed.sheets,
            parsed.uncomputed, now=clock.now(), origin=f"intake-file:{file_row.id}",
        )  # fmt: skip
        if reading.refusals:
            file_row.problems = [_refusal_json(f) for f in reading.refusals]
            return Verdict(Outcome.REJECTED, "invalid", {"count": len(reading.refusals)})
    verdict = _submit(session, row, file_row, instance, checked.rows, checked.row_count, known)
    if reading is None or verdict.outcome is not Outcome.ACCEPTED:
        return verdict
    told = record_progress(session, clock, campaign, reading, who.unit.id)
    return Verdict(
        verdict.outcome,
        verdict.code,
        {**verdict.detail, PROGRESS_NOTES: [f.as_json() for f in told]},
    )


PROGRESS_NOTES = "progress"
"""The key of an accepted progress report's detail listing what was recorded and noted, for
its acknowledgement."""


def _refusal_json(finding: Finding | PartFinding) -> dict[str, Any]:
    """A refusal as a cell problem (``CellProblem`` code ``progress``), worded in both
    languages now, so the rejection lists it with the invalid cells."""
    return {
        "sheet": finding.detail.get("sheet", ""),
        "cell": finding.cell,
        "code": "progress",
        "found": None,
        "detail": {"zh": _bare(finding, "zh-CN"), "en": _bare(finding, "en")},
    }


def _bare(finding: Finding | PartFinding, language: Language) -> str:
    """The finding's words without its ``sheet!cell:`` (the cell problem adds it)."""
    text = finding.describe(language)
    prefix = f"{finding.detail.get('sheet', '')}!{finding.cell}: "
    return text.removeprefix(prefix)


def validation_of(form: Form, deliverable_id: str, version: str, parsed: ParsedWorkbook) -> Checked:
    """The worker's validation when it was for this deliverable and template version (the
    verified ones), else a validation here: never both."""
    pre = parsed.prevalidated
    if pre is not None and (pre.deliverable_id, pre.template_version) == (deliverable_id, version):
        return pre.checked
    return validate_workbook(form, parsed.sheets, version, parsed.uncomputed)


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
    known: Known,
) -> Verdict:
    existing = known.versions(instance.id)
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
    existing.append(Version(file_row.id, file_row.sha256, version))
    return Verdict(Outcome.ACCEPTED, "accepted", {"version": version})
