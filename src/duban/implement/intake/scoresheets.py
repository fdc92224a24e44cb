"""An inspection team's scoresheet (督查评分表) in intake: recorded by ``inspect.results`` in
the record's transaction, its outcome turned into the file's verdict.

Intake stored the message's and the file's bytes before anything was read, and ``decide``
verified the token; here the ledger says whether the sender is on the unit's team (held if
not), whether the sheet is valid (refused, with every problem, in the campaign's language)
and what was recorded: the verdict's detail is what the answer to the inspector says.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.intake.decide import InspectionSheet, Outcome, Verdict
from duban.implement.intake.parse import ParsedWorkbook
from duban.inspect.results import Held, Recorded, ReturnedSheet, record_returned_sheet
from duban.inspect.sheetcheck import plain_number
from duban.ledger.schema import IntakeFileRow, IntakeRow
from duban.model.loader import CampaignBundle

SCORES_RECORDED = "scoresheet-recorded"
SCORES_REFUSED = "scoresheet-refused"


def record_mailed_scoresheet(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    file: IntakeFileRow,
    who: InspectionSheet,
    parsed: ParsedWorkbook,
    *,
    vouched_by: str | None = None,
) -> Verdict:
    """The sheet recorded (accepted), refused (rejected with its problems) or held;
    ``vouched_by``: the coordinator accepting a held sheet in review, whose word stands for
    the team check."""
    sheet = ReturnedSheet(
        identity=who.identity, sender=row.sender or "", sha256=file.sha256,
        received_at=row.received_at, sheets=parsed.sheets,
        template_version=who.template_version, uncomputed=parsed.uncomputed,
        intake_file_id=file.id, vouched_by=vouched_by,
    )  # fmt: skip
    done = record_returned_sheet(session, bundle, clock, sheet)
    unit_name = bundle.units_by_id[who.identity.unit_id].name
    if isinstance(done, Held):
        return Verdict(Outcome.HELD, done.code, done.detail)
    if not isinstance(done, Recorded):
        lines = [p.describe(bundle.campaign.language) for p in done.problems]
        detail = {"count": len(lines), "lines": lines, "unit_name": unit_name}
        return Verdict(Outcome.REJECTED, SCORES_REFUSED, detail)
    return Verdict(Outcome.ACCEPTED, SCORES_RECORDED, _recorded(done, unit_name))


def _recorded(done: Recorded, unit_name: str) -> dict[str, Any]:
    return {
        "unit_name": unit_name, "version": done.version, "new": done.new,
        "replaces": done.replaces, "on_time": done.on_time, "total": plain_number(done.total),
        "maximum": plain_number(done.maximum),
        "created": list(done.created), "already": list(done.already),
        "findings": list(done.findings),
    }  # fmt: skip
