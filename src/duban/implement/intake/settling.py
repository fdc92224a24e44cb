"""Settling a record: who each of its read workbooks is from, each file's outcome, then the
record's status and its event.

A file refused on the way (by its kind, the pre-check or its reader) keeps that verdict; a read
workbook is identified (``decide.identify``) and, when its token and sender hold, validated and
submitted (``submitting``). The record takes the most telling outcome among its files; a record
in which nothing was decided is an automatic reply (``automatic``), a unit's message without a
workbook, or a stranger's.

Two facts known before any file is decided are carried as the received record's reason:

- a sender the office's receiving server did not confirm (``authentication``): none of its
  files is submitted or refused to that address; each is held with that reason, and so is the
  record (no answer goes to an address that may be forged). The coordinator may still accept
  a held file in review after checking with the unit;
- a walk cut short by a limit (too many parts, nested too deeply): a record that would be
  refused, or held as a stranger's with no workbook, says so, so that the sender is told to
  send the workbook alone rather than that none was attached.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.adapters.xlsx.errors import WorkbookError
from duban.adapters.xlsx.metadata import identity_of
from duban.clock import Clock
from duban.implement.intake.appeals import record_mailed_appeal
from duban.implement.intake.authentication import UNAUTHENTICATED
from duban.implement.intake.automatic import automatic_reason
from duban.implement.intake.ballots import record_mailed_ballot
from duban.implement.intake.candidates import Candidate
from duban.implement.intake.decide import (
    EvaluatorBallot,
    InspectionSheet,
    OfficeSheet,
    Outcome,
    UnitAppeal,
    Verdict,
    Who,
    identify,
    unit_of_sender,
)
from duban.implement.intake.known import Known
from duban.implement.intake.mime import TOO_DEEP, TOO_MANY_PARTS
from duban.implement.intake.scoresheets import record_mailed_scoresheet
from duban.implement.intake.submitting import accept_or_reject
from duban.implement.intake.verdicts import record_mailed_sheet
from duban.ledger.schema import EventRow, IntakeRow
from duban.ledger.store import new_event
from duban.model.loader import CampaignBundle

_PRIORITY = (Outcome.ACCEPTED, Outcome.HELD, Outcome.QUARANTINED, Outcome.REJECTED,
             Outcome.DUPLICATE, Outcome.IGNORED)  # fmt: skip


def identify_file(
    bundle: CampaignBundle, secret: bytes, candidate: Candidate, sender: str | None
) -> Who:
    """Whom a read workbook is from, by its token and its sender; the unit it claims to be
    from is noted on its row, held or not."""
    parsed = candidate.parsed
    assert parsed is not None
    claimed = (parsed.metadata or {}).get("unit_id")
    if claimed in bundle.units_by_id:
        candidate.row.unit_id = claimed  # whom the file claims to be from, held or not
    who = identify(parsed.metadata, sender, bundle, secret)
    no_template = isinstance(who, Verdict) and who.code == "no-metadata"
    if no_template and unit_of_sender(bundle, sender) is None:
        return Verdict(Outcome.HELD, "unknown-sender-no-template", {"sender": sender or "?"})
    return who


def decide_record(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    candidates: list[Candidate],
    known: Known,
) -> EventRow:
    """Decide each file of the record not decided before a crash and settle the record; its
    event, for the caller to append with its wave's (``append_events``)."""
    early = _early(row)
    doubt = Verdict(Outcome.HELD, *early) if early and early[0] == UNAUTHENTICATED else None
    for candidate in candidates:
        if candidate.row.outcome != "received":
            continue  # decided before a crash
        verdict = _verdict(session, bundle, clock, row, candidate, known, doubt)
        candidate.row.outcome = verdict.outcome.value
        candidate.row.reason = verdict.code
        if verdict.outcome is Outcome.HELD:
            _note_claimed_duty(candidate, known)
        if verdict.code != "invalid":  # an invalid file keeps its list of cell problems
            candidate.row.problems = [dict(verdict.detail)] if verdict.detail else []
    settle(bundle, row, candidates, early)
    return new_event(
        clock, f"intake.{row.status}", campaign_id=row.campaign_id,
        subject=f"intake/{row.id}", payload={"reason": row.reason, "sender": row.sender},
    )  # fmt: skip


def _note_claimed_duty(candidate: Candidate, known: Known) -> None:
    """A held workbook's duty as its template claims it, noted like its unit: the status
    matrix then shows that duty as held (the unit did answer) rather than missing. Nothing
    is accepted on the claim; ``duban review --accept`` decides."""
    metadata = candidate.parsed.metadata if candidate.parsed is not None else None
    if candidate.row.instance_id is not None or not metadata or "kind" in metadata:
        return
    try:
        identity = identity_of(metadata)
    except WorkbookError:
        return
    instance = known.instance(identity)
    if instance is not None:
        candidate.row.instance_id = instance.id


def _early(row: IntakeRow) -> tuple[str, dict[str, Any]] | None:
    """The reason the received record carries before its files are decided, with its detail:
    a doubted sender or a walk cut short (see the module's docstring)."""
    if row.reason in (UNAUTHENTICATED, TOO_MANY_PARTS, TOO_DEEP):
        return row.reason, dict(row.detail or {})
    return None


def _verdict(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    candidate: Candidate,
    known: Known,
    doubt: Verdict | None,
) -> Verdict:
    """The file's verdict; from a doubted sender, held instead of submitted or refused."""
    early = candidate.verdict or (candidate.who if isinstance(candidate.who, Verdict) else None)
    if doubt is not None and (early is None or early.outcome is Outcome.REJECTED):
        return doubt
    return early or _judge(session, bundle, clock, row, candidate, known)


def _judge(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    candidate: Candidate,
    known: Known,
) -> Verdict:
    who, parsed = candidate.who, candidate.parsed
    assert who is not None
    assert parsed is not None
    if isinstance(who, Verdict):
        return who
    if isinstance(who, OfficeSheet):
        return record_mailed_sheet(session, bundle, clock, candidate.row, parsed)
    if isinstance(who, InspectionSheet):
        return record_mailed_scoresheet(session, bundle, clock, row, candidate.row, who, parsed)
    if isinstance(who, EvaluatorBallot):
        return record_mailed_ballot(session, bundle, clock, row, candidate.row, who, parsed)
    if isinstance(who, UnitAppeal):
        return record_mailed_appeal(session, bundle, clock, row, candidate.row, who, parsed)
    return accept_or_reject(session, bundle, row, candidate.row, who, parsed, known,
                            clock=clock)  # fmt: skip


def settle(
    bundle: CampaignBundle,
    row: IntakeRow,
    candidates: list[Candidate],
    early: tuple[str, dict[str, Any]] | None = None,
) -> None:
    """The record's status: the most telling outcome among its files; then what ``early``
    (a doubted sender, a walk cut short) changes about it."""
    _by_files(bundle, row, candidates)
    if early is None:
        return
    code, detail = early
    if code == UNAUTHENTICATED:
        if row.status not in (Outcome.IGNORED.value, Outcome.DUPLICATE.value):
            row.status, row.reason, row.detail = Outcome.HELD.value, code, detail
    elif row.status == Outcome.REJECTED.value or row.reason == "no-workbook-unknown-sender":
        row.reason, row.detail = code, detail


def _by_files(bundle: CampaignBundle, row: IntakeRow, candidates: list[Candidate]) -> None:
    """The most telling outcome among the record's files, or what a record without one is."""
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
    known = unit_of_sender(bundle, row.sender) is not None
    automatic = automatic_reason(row.subject, found_nothing=True)
    if automatic is not None:
        row.status, row.reason = Outcome.IGNORED.value, automatic
    elif known:
        row.status, row.reason = Outcome.REJECTED.value, "no-workbook"
    else:
        row.status, row.reason = Outcome.HELD.value, "no-workbook-unknown-sender"
