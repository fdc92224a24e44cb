"""A verification sheet (核验销号表) the coordinator mailed back: its verdicts recorded as
``duban rectify verdicts`` records them (``selfcheck.verdicts``), in the record's transaction.

Intake stored the message's and the file's bytes before anything was read, so nothing more is
kept here. What happened becomes the file's verdict, and its detail what the answer to the
coordinator says: the items closed and returned (and those this very file had moved before),
or every problem of the file, when nothing was recorded. (The file's problems are found before
anything is written; the moves that follow were checked under the items' locks, so a refusal
there would be a fault, left to end the run as any fault does: the record stays received and
the next run takes it again.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.intake.decide import Outcome, Verdict
from duban.implement.intake.parse import ParsedWorkbook
from duban.ledger.schema import IntakeFileRow
from duban.model.loader import CampaignBundle
from duban.selfcheck.verdicts import record_verdicts
from duban.selfcheck.verification import VerdictsFileError

RECORDED = "verdicts-recorded"
REFUSED = "verdicts-refused"


def record_mailed_sheet(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    file: IntakeFileRow,
    parsed: ParsedWorkbook,
) -> Verdict:
    """Record the sheet's verdicts, closing as the coordinator the campaign file names; the
    file's verdict (``accepted`` with what it did, or ``rejected`` with its problems)."""
    campaign = bundle.campaign
    name = file.filename or f"{file.sha256[:12]}.xlsx"
    try:
        done = record_verdicts(session, clock, campaign, parsed.sheets, sha256=file.sha256,
                               name=name, actor=campaign.roles.coordinator.name)  # fmt: skip
    except VerdictsFileError as error:
        lines = [p.said(campaign.language) for p in error.problems]
        return Verdict(Outcome.REJECTED, REFUSED, {"count": len(lines), "lines": lines})
    detail: dict[str, Any] = {"closed": list(done.closed), "returned": list(done.returned),
                              "already": list(done.already), "blank": done.blank}  # fmt: skip
    return Verdict(Outcome.ACCEPTED, RECORDED, detail)
