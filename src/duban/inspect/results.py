"""A team's returned scoresheet in the ledger (issue 16, item 5): whose it may be, its scores
recorded as the unit's next version, its findings as rectification items of the unit.

Intake has stored the bytes and verified the token (campaign, inspection, round, unit); here
the sender must be on that unit's team, by the addresses of the inspector register: a sheet
for a unit outside the sender's team, or of a round that has no such unit, is held with a
reason the coordinator can act on. A sheet is then read against the checklist
(``sheetcheck``): any problem refuses it whole, nothing recorded. A valid sheet becomes the
unit's next version (the latest counts; earlier ones stay); the same file again is the version
it was. Each finding becomes an item (source ``inspection``, the round named), due on the
row's deadline or ``findings_due`` working days after the day it is accepted; its origin key
is the round, the unit and the finding's words, so a sheet read twice, or a corrected sheet
repeating a finding, records it once. Everything runs under the unit's lock for the round,
in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import ScoresheetIdentity
from duban.clock import Clock
from duban.inspect.notify import notified_window, round_subject
from duban.inspect.rounds import APPROVED, NOTIFIED, find_round
from duban.inspect.sheetcheck import FindingRow, SheetReading, read_scoresheet
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import (
    InspectionAssignmentRow,
    InspectionRoundRow,
    InspectionScoreRow,
)
from duban.ledger.store import append_event, digest
from duban.model.inspections import InspectionSpec
from duban.model.inspectors import Inspector
from duban.model.loader import CampaignBundle
from duban.model.scoresheets import scoresheet_form
from duban.model.validation import CellProblem, Grid, Position
from duban.selfcheck.items import NewItem, plain
from duban.selfcheck.ledger import create_items


@dataclass(frozen=True)
class ReturnedSheet:
    """A scoresheet as intake received it: whose its token says it is, who sent it, its
    file and cells."""

    identity: ScoresheetIdentity
    sender: str
    sha256: str
    received_at: datetime
    sheets: Mapping[str, Grid]
    template_version: str | None = None
    uncomputed: Mapping[str, Collection[Position]] = field(default_factory=dict)
    intake_file_id: int | None = None
    vouched_by: str | None = None
    """The coordinator who accepted a held sheet in review: the team check is theirs."""


@dataclass(frozen=True)
class Held:
    """Not this sender's to return (or no such visit): ``code`` and ``detail`` for the reason."""

    code: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    problems: tuple[CellProblem, ...]


@dataclass(frozen=True)
class Recorded:
    """The version the sheet is (``new``: recorded now), its total of the maximum, and the
    codes of the items its findings became (``created`` now, ``already`` before)."""

    unit_id: str
    version: int
    total: Decimal
    maximum: Decimal
    created: tuple[str, ...]
    already: tuple[str, ...]
    new: bool
    replaces: int | None = None
    on_time: bool = True
    findings: tuple[dict[str, Any], ...] = ()
    """Each finding as the version keeps it: row, words, measure, deadline, item code."""


def record_returned_sheet(
    session: Session, bundle: CampaignBundle, clock: Clock, sheet: ReturnedSheet
) -> Held | Refused | Recorded:
    """Record a returned scoresheet, or say why not (see the module's docstring)."""
    found = _visit(session, bundle, sheet)
    if isinstance(found, Held):
        return found
    round_row, author = found
    unit_id = sheet.identity.unit_id
    hold_write_lock(session.connection(), f"inspection-scores:{round_row.id}:{unit_id}")
    versions = _versions(session, round_row.id, unit_id)
    same = next((v for v in versions if _same_file(v, sheet)), None)
    if same is not None:
        codes = tuple(str(f["code"]) for f in same.findings)
        return Recorded(unit_id, same.version, same.total, same.maximum, (), codes, new=False,
                        on_time=same.on_time, findings=tuple(same.findings))  # fmt: skip
    spec = bundle.campaign.inspection(round_row.inspection_id)
    accepted_on = clock.now().astimezone(bundle.campaign.zone).date()
    reading = _read(bundle, spec, sheet, accepted_on)
    if reading.problems:
        return Refused(reading.problems)
    return _record(session, bundle, clock, _Context(round_row, spec, author, sheet, accepted_on),
                   reading, versions)  # fmt: skip


def latest_scores(session: Session, round_id: int) -> dict[str, InspectionScoreRow]:
    """The scoresheet that counts for each unit of the round: its latest version."""
    rows = session.scalars(
        select(InspectionScoreRow)
        .where(InspectionScoreRow.round_id == round_id)
        .order_by(InspectionScoreRow.unit_id, InspectionScoreRow.version)
    )
    return {row.unit_id: row for row in rows}


def _visit(
    session: Session, bundle: CampaignBundle, sheet: ReturnedSheet
) -> tuple[InspectionRoundRow, Author] | Held:
    """The round and who answers for the sheet (the team member who sent it, or the
    coordinator who vouched for it), or why the sheet is held."""
    identity = sheet.identity
    unit = bundle.units_by_id[identity.unit_id]
    round_row = find_round(session, bundle.campaign.id, identity.inspection_id,
                           identity.round_label)  # fmt: skip
    assignment = None
    declared = any(i.id == identity.inspection_id for i in bundle.campaign.inspections)
    if declared and round_row is not None and round_row.state in (APPROVED, NOTIFIED):
        assignment = session.scalar(
            select(InspectionAssignmentRow).where(
                InspectionAssignmentRow.round_id == round_row.id,
                InspectionAssignmentRow.unit_id == unit.id,
            )
        )
    if round_row is None or assignment is None:
        return Held("no-visit", {"unit_name": unit.name, "inspection": identity.inspection_id,
                                 "round": identity.round_label})  # fmt: skip
    if sheet.vouched_by is not None:
        return round_row, Author(sheet.vouched_by[:64], sheet.vouched_by)
    register = {i.id: i for i in bundle.inspectors}
    team = [register[str(i)] for i in assignment.inspectors if str(i) in register]
    member = next((i for i in team if _addressed(i, sheet.sender)), None)
    if member is None:
        names = "、".join(i.name for i in team) or "—"
        return Held("not-on-team", {"sender": sheet.sender, "unit_name": unit.name,
                                    "team": names})  # fmt: skip
    return round_row, Author(member.id, member.name)


@dataclass(frozen=True)
class Author:
    """Who answers for a recorded sheet: an inspector's id and name, or the coordinator's."""

    id: str
    name: str


def _addressed(inspector: Inspector, sender: str) -> bool:
    wanted = sender.strip().lower()
    return any(e.strip().lower() == wanted for e in inspector.emails)


def _versions(session: Session, round_id: int, unit_id: str) -> list[InspectionScoreRow]:
    return list(
        session.scalars(
            select(InspectionScoreRow)
            .where(InspectionScoreRow.round_id == round_id, InspectionScoreRow.unit_id == unit_id)
            .order_by(InspectionScoreRow.version)
        )
    )


def _same_file(row: InspectionScoreRow, sheet: ReturnedSheet) -> bool:
    """The same bytes, or this very intake file recorded before a crash."""
    mine = sheet.intake_file_id is not None and row.intake_file_id == sheet.intake_file_id
    return mine or row.sha256 == sheet.sha256


def _read(
    bundle: CampaignBundle, spec: InspectionSpec, sheet: ReturnedSheet, accepted_on: date
) -> SheetReading:
    checklist = bundle.campaign.checklist(spec.checklist)
    form = scoresheet_form(checklist, bundle.campaign.language)
    return read_scoresheet(checklist, form, sheet.sheets, version=sheet.template_version,
                           uncomputed=sheet.uncomputed, accepted_on=accepted_on)  # fmt: skip


@dataclass(frozen=True)
class _Context:
    round_row: InspectionRoundRow
    spec: InspectionSpec
    author: Author
    sheet: ReturnedSheet
    accepted_on: date


def _record(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    ctx: _Context,
    reading: SheetReading,
    versions: Sequence[InspectionScoreRow],
) -> Recorded:
    unit_id = ctx.sheet.identity.unit_id
    findings = _distinct(reading.findings)
    items = [_item(bundle, ctx, f) for f in findings]
    recorded = create_items(session, clock, bundle.campaign.id, items,
                            actor=ctx.author.name[:64])  # fmt: skip
    version = versions[-1].version + 1 if versions else 1
    maximum = bundle.campaign.checklist(ctx.spec.checklist).total
    on_time = _on_time(session, bundle, ctx)
    row = InspectionScoreRow(
        round_id=ctx.round_row.id, campaign_id=bundle.campaign.id, unit_id=unit_id,
        version=version, intake_file_id=ctx.sheet.intake_file_id, sha256=ctx.sheet.sha256,
        inspector_id=ctx.author.id, sender=ctx.sheet.sender[:254],
        received_at=ctx.sheet.received_at, on_time=on_time, recorded_at=clock.now(),
        total=reading.total,
        maximum=maximum, scores=[s.as_json() for s in reading.scores],
        findings=[_finding_json(f, r.item.code, r.item.deadline)
                  for f, r in zip(findings, recorded, strict=True)],
    )  # fmt: skip
    session.add(row)
    created = tuple(r.item.code for r in recorded if r.new)
    append_event(
        session, clock, "inspection.scored", campaign_id=bundle.campaign.id,
        subject=round_subject(ctx.round_row),
        actor=ctx.author.id,
        payload={"unit": unit_id, "version": version, "total": str(reading.total),
                 "sha256": ctx.sheet.sha256, "items": [r.item.code for r in recorded]},
    )  # fmt: skip
    session.flush()
    already = tuple(r.item.code for r in recorded if not r.new)
    replaces = versions[-1].version if versions else None
    return Recorded(unit_id, version, reading.total, maximum, created, already, new=True,
                    replaces=replaces, on_time=on_time, findings=tuple(row.findings))  # fmt: skip


def _on_time(session: Session, bundle: CampaignBundle, ctx: _Context) -> bool:
    """Received by the last day of the window the round was notified with; a round approved
    but not yet marked notified has no window to be late for."""
    window = notified_window(session, bundle.campaign.id, ctx.round_row)
    if window is None:
        return True
    return ctx.sheet.received_at.astimezone(bundle.campaign.zone).date() <= window[1]


def _distinct(findings: Sequence[FindingRow]) -> list[FindingRow]:
    """Each finding once: the same words twice on a sheet (spaces aside) are one problem."""
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if plain(finding.finding) not in seen:
            seen.add(plain(finding.finding))
            kept.append(finding)
    return kept


def _item(bundle: CampaignBundle, ctx: _Context, finding: FindingRow) -> NewItem:
    due = finding.due or bundle.calendar.add_working_days(ctx.accepted_on, ctx.spec.findings_due)
    words = digest({"finding": plain(finding.finding)})[:24]
    origin = f"inspection:{ctx.round_row.id}:{ctx.sheet.identity.unit_id}:{words}"
    return NewItem(
        unit_id=ctx.sheet.identity.unit_id, finding=finding.finding, source="inspection",
        measure=finding.measure, deadline=due, origin_key=origin,
        inspection_round_id=ctx.round_row.id,
    )  # fmt: skip


def _finding_json(finding: FindingRow, code: str, deadline: date | None) -> dict[str, Any]:
    return {"row": finding.row, "finding": finding.finding, "measure": finding.measure,
            "due": None if deadline is None else deadline.isoformat(), "code": code}  # fmt: skip
