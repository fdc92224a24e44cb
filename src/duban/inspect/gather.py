"""An inspection round's report gathered from the ledger (see ``report``).

The units, their strata and teams are the round's assignments, as approved (a recusal after
approval rewrites them, so a replaced inspector is not named): what the teams were told, not a
draw recomputed. Each unit's figures come from its latest scoresheet version recorded by
``as_of``; the seed and the draw's hash from the draw row, the visit window from the round's
notification, when it had them. Names come from the campaign's current registers; an id the
registers no longer have stays as it is. A round not yet approved has nothing to report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.evaluate.figures import Deduction, InspectionRound
from duban.inspect import drawing, rounds
from duban.inspect.drawing import RoundError
from duban.inspect.notify import notified_window
from duban.inspect.report import (
    Header,
    InspectionReport,
    UnitResult,
    build_report,
    finding_lines,
    score_lines,
)
from duban.ledger.schema import InspectionAssignmentRow, InspectionRoundRow, InspectionScoreRow
from duban.model.inspections import ChecklistItem
from duban.model.loader import CampaignBundle


def gather_report(
    session: Session,
    bundle: CampaignBundle,
    inspection_id: str,
    label: str | None,
    as_of: datetime,
) -> InspectionReport:
    """The report of the named round (the inspection's latest when ``label`` is None)."""
    round_row = drawing.find_round_or_fail(session, bundle, inspection_id, label)
    assigned = rounds.assignments_of(session, round_row.id)
    if round_row.state not in (rounds.APPROVED, rounds.NOTIFIED) or not assigned:
        raise _not_approved(round_row)
    spec = bundle.campaign.inspection(round_row.inspection_id)
    sheets = _latest_by(session, round_row.id, as_of)
    units = [_unit(bundle, row, sheets.get(row.unit_id)) for row in assigned]
    header = _header(session, bundle, round_row, as_of)
    return build_report(header, bundle.campaign.checklist(spec.checklist), units)


def _not_approved(round_row: InspectionRoundRow) -> RoundError:
    label, state = round_row.label, round_row.state
    return RoundError(
        f"round {label} is {state}: nothing is reported before it is approved",
        hint=f"approve it with `duban inspect approve … {round_row.inspection_id}`",
        zh=f"第 {label} 轮尚为“{rounds.STATE_ZH.get(state, state)}”，审定之前没有结果可通报",
        zh_hint=f"请先用 `duban inspect approve … {round_row.inspection_id}` 审定",
    )


def _latest_by(session: Session, round_id: int, as_of: datetime) -> dict[str, InspectionScoreRow]:
    rows = session.scalars(
        select(InspectionScoreRow)
        .where(InspectionScoreRow.round_id == round_id, InspectionScoreRow.recorded_at <= as_of)
        .order_by(InspectionScoreRow.unit_id, InspectionScoreRow.version)
    )
    return {row.unit_id: row for row in rows}


def _unit(
    bundle: CampaignBundle, row: InspectionAssignmentRow, sheet: InspectionScoreRow | None
) -> UnitResult:
    names = {i.id: i.name for i in bundle.inspectors}
    unit = bundle.units_by_id.get(row.unit_id)
    team = tuple(names.get(str(i), str(i)) for i in row.inspectors)
    drawn = UnitResult(row.unit_id, unit.name if unit else row.unit_id, row.stratum, team)
    if sheet is None:
        return drawn
    return replace(
        drawn, total=sheet.total, maximum=sheet.maximum, on_time=sheet.on_time,
        received_at=sheet.received_at, version=sheet.version, scores=score_lines(sheet.scores),
        findings=finding_lines(sheet.findings),
    )  # fmt: skip


def _header(
    session: Session, bundle: CampaignBundle, round_row: InspectionRoundRow, as_of: datetime
) -> Header:
    campaign = bundle.campaign
    spec = campaign.inspection(round_row.inspection_id)
    latest = rounds.latest_commitment(session, round_row.id)
    done = None if latest is None else rounds.draw_of(session, latest.id)
    return Header(
        campaign_id=campaign.id, campaign_title=campaign.title, language=campaign.language,
        zone=campaign.zone, coordinator=campaign.roles.coordinator.name,
        inspection_id=spec.id, inspection_title=spec.title, label=round_row.label,
        announced=round_row.announced, seed=None if done is None else done.seed,
        result_hash=None if done is None else done.result_digest,
        window=notified_window(session, campaign.id, round_row), as_of=as_of,
    )  # fmt: skip


def inspection_rounds(
    session: Session, bundle: CampaignBundle, as_of: datetime
) -> dict[str, list[InspectionRound]]:
    """Inspection scores as an evaluation source (评议考核's 督查考评): each unit's latest
    scoresheet (recorded by ``as_of``) of every approved round of the campaign, as its full
    mark and the deductions made with their reasons. A round named ``inspection/label``; a
    unit drawn but never scored has no round here (its missing policy decides)."""
    campaign = bundle.campaign
    found: dict[str, list[InspectionRound]] = {}
    for round_row in rounds.rounds_of(session, campaign.id):
        if round_row.state not in (rounds.APPROVED, rounds.NOTIFIED):
            continue
        titles = {i.id: i.title for i in _checklist_items(bundle, round_row.inspection_id)}
        name = f"{round_row.inspection_id}/{round_row.label}"
        for unit_id, sheet in _latest_by(session, round_row.id, as_of).items():
            deductions = tuple(
                Deduction(line.item_id, titles.get(line.item_id, line.item_id), line.deducted,
                          line.reason or "")
                for line in score_lines(sheet.scores)
                if line.deducted > 0
            )  # fmt: skip
            found.setdefault(unit_id, []).append(InspectionRound(name, sheet.maximum, deductions))
    return found


def _checklist_items(bundle: CampaignBundle, inspection_id: str) -> list[ChecklistItem]:
    """The items of the inspection's checklist; none when the file no longer declares it
    (a past round's scores still count, with item ids for titles)."""
    campaign = bundle.campaign
    spec = next((i for i in campaign.inspections if i.id == inspection_id), None)
    checklist = next((c for c in campaign.checklists if spec and c.id == spec.checklist), None)
    return [] if checklist is None else list(checklist.items)
