"""A unit's appeal form (复核申请表) in intake: lodged by ``evaluate.appeal_intake`` in the
record's transaction, its outcome turned into the file's verdict.

As for a ballot: intake stored the message's and the file's bytes before anything was read,
and ``decide`` verified the token; here the ledger says whether the sender is the unit's
(held if not), whether appeals are open (refused after the close or once frozen), whether the
form is as sent (refused with every problem, in the campaign's language) and which appeals it
made: the verdict's detail is what the answer to the unit says.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.adapters.render import format_due
from duban.clock import Clock
from duban.evaluate.appeal_intake import Appealed, Closed, ReturnedAppeal, record_appeal
from duban.implement.intake.decide import Outcome, UnitAppeal, Verdict
from duban.implement.intake.parse import ParsedWorkbook
from duban.inspect.results import Held
from duban.ledger.schema import IntakeFileRow, IntakeRow
from duban.model.loader import CampaignBundle

APPEAL_RECORDED = "appeal-recorded"
APPEAL_REFUSED = "appeal-refused"
APPEAL_CLOSED = ("appeal-frozen", "appeal-late", "appeal-empty")
APPEAL_ANSWERED = (APPEAL_RECORDED, APPEAL_REFUSED, *APPEAL_CLOSED)
"""The reasons an appeal form's answer is written for (see ``answers``)."""


def record_mailed_appeal(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    file: IntakeFileRow,
    who: UnitAppeal,
    parsed: ParsedWorkbook,
    vouched_by: str | None = None,
) -> Verdict:
    """The form's appeals lodged (accepted), the form refused (rejected) or held;
    ``vouched_by``: the coordinator accepting a held one in review (the sender unchecked)."""
    returned = ReturnedAppeal(
        identity=who.identity, sender=row.sender or "", sha256=file.sha256,
        received_at=row.received_at, sheets=parsed.sheets,
        template_version=who.template_version, uncomputed=parsed.uncomputed,
        intake_file_id=file.id, vouched_by=vouched_by,
    )  # fmt: skip
    done = record_appeal(session, bundle, clock, returned)
    named = {"unit_name": who.unit.name, "label": who.identity.label}
    if isinstance(done, Held):
        return Verdict(Outcome.HELD, done.code, done.detail)
    if isinstance(done, Closed):
        return Verdict(Outcome.REJECTED, done.code, {**named, **_closed(bundle, done)})
    if not isinstance(done, Appealed):
        lines = [p.describe(bundle.campaign.language) for p in done.problems]
        return Verdict(Outcome.REJECTED, APPEAL_REFUSED, {**named, "count": len(lines),
                                                          "lines": lines})  # fmt: skip
    campaign = bundle.campaign
    appeals = [{"appeal": f"A{a.appeal_id}", "line": a.line, "statement": a.statement,
                "new": a.new} for a in done.appeals]  # fmt: skip
    return Verdict(Outcome.ACCEPTED, APPEAL_RECORDED, {
        **named, "appeals": appeals,
        "closes_text": format_due(done.closes, campaign.zone, campaign.language),
    })  # fmt: skip


def _closed(bundle: CampaignBundle, done: Closed) -> dict[str, Any]:
    """The reason's detail as the ledger keeps it: the close as the unit was told it."""
    detail = dict(done.detail)
    closes = detail.pop("closes", None)
    if closes is not None:
        campaign = bundle.campaign
        detail["closes_text"] = format_due(closes, campaign.zone, campaign.language)
    return detail
