"""An evaluator's ballot (民主评议测评表) in intake: recorded by ``evaluate.ballot_intake`` in
the record's transaction, its outcome turned into the file's verdict.

As for a scoresheet: intake stored the message's and the file's bytes before anything was
read, and ``decide`` verified the token; here the ledger says whether the sender is the
evaluator (held if not), whether the ballot is valid (refused, with every problem, in the
campaign's language) and what was recorded: the verdict's detail is what the answer to the
evaluator says, and only the evaluator is answered (their marks are nobody else's business).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from duban.adapters.render import format_due, format_moment
from duban.clock import Clock
from duban.evaluate.ballot_intake import Recorded, ReturnedBallot, record_ballot
from duban.implement.intake.decide import EvaluatorBallot, Outcome, Verdict
from duban.implement.intake.parse import ParsedWorkbook
from duban.inspect.results import Held
from duban.ledger.schema import IntakeFileRow, IntakeRow
from duban.model.loader import CampaignBundle

BALLOT_RECORDED = "ballot-recorded"
BALLOT_REFUSED = "ballot-refused"


def record_mailed_ballot(
    session: Session,
    bundle: CampaignBundle,
    clock: Clock,
    row: IntakeRow,
    file: IntakeFileRow,
    who: EvaluatorBallot,
    parsed: ParsedWorkbook,
    vouched_by: str | None = None,
) -> Verdict:
    """The ballot recorded (accepted), refused (rejected with its problems) or held;
    ``vouched_by``: the coordinator accepting a held one in review (the sender unchecked)."""
    returned = ReturnedBallot(
        identity=who.identity, sender=row.sender or "", sha256=file.sha256,
        received_at=row.received_at, sheets=parsed.sheets,
        template_version=who.template_version, uncomputed=parsed.uncomputed,
        intake_file_id=file.id, vouched_by=vouched_by,
    )  # fmt: skip
    done = record_ballot(session, bundle, clock, returned)
    if isinstance(done, Held):
        return Verdict(Outcome.HELD, done.code, done.detail)
    if not isinstance(done, Recorded):
        lines = [p.describe(bundle.campaign.language) for p in done.problems]
        detail = {"count": len(lines), "lines": lines, "name": who.evaluator.name,
                  "source": _source_title(bundle, who),
                  "round": who.identity.round_label}  # fmt: skip
        return Verdict(Outcome.REJECTED, BALLOT_REFUSED, detail)
    return Verdict(Outcome.ACCEPTED, BALLOT_RECORDED, _recorded(bundle, done))


def _source_title(bundle: CampaignBundle, who: EvaluatorBallot) -> str:
    found = [s for s in bundle.campaign.scoring.sources if s.id == who.identity.source_id]
    return found[0].title if found else who.identity.source_id


def _recorded(bundle: CampaignBundle, done: Recorded) -> dict[str, Any]:
    campaign = bundle.campaign
    zone, language = campaign.zone, campaign.language

    def moment(at: Any) -> str | None:
        return None if at is None else format_moment(at, zone, language)

    names = {u.id: u.name for u in bundle.units}
    return {
        "name": done.evaluator.name, "source": done.source.title, "round": done.label,
        "units": done.units, "marked": done.marked, "new": done.new, "late": done.late,
        "spoiled": [{"unit": u, "unit_name": names.get(u, u), "mark": m}
                    for u, m in done.spoiled.items()],
        "closes_text": format_due(done.closes, zone, language),
        "first_text": moment(done.first_received), "earlier_text": moment(done.earlier),
        "earlier_counts": done.earlier_counts, "later_text": moment(done.later),
    }  # fmt: skip
