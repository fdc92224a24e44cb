"""An evaluator's returned ballot in the ledger (issue 17 item 1): whose it may be, and its
marks recorded as written.

Intake has stored the bytes and verified the token (campaign, source, round, evaluator);
here the sender must be the evaluator's own address in the register (one ballot counts per
evaluator, so a ballot from anyone else is held, naming whose it is), the source must be a
public evaluation of the scoring and the round one whose ballots went out. The ballot is then
read against the units it was made for (``ballotcheck``): a changed unit row, or a cell the
form refuses, refuses it whole, nothing recorded. A mark off the scale is not a refusal: it is
recorded as written and will not count (spoiled). A valid ballot is recorded beside the
evaluator's earlier ones (the latest before the close counts, decided when counting); the same
file again is the ballot it was, recorded once. A ballot after the close is recorded, and its
evaluator told it will not count. Everything runs under the evaluator's lock for the round, in
the caller's transaction. A ballot held or refused is said as a scoresheet is (``Held``,
``Refused`` of ``inspect.results``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import BallotIdentity
from duban.clock import Clock
from duban.evaluate.ballot_ledger import ballot_round, round_subject
from duban.evaluate.ballotcheck import BallotReading, read_ballot
from duban.evaluate.ballots import points_of
from duban.inspect.results import Held, Refused
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import BallotRow
from duban.ledger.store import append_event
from duban.model.ballotsheets import ballot_form
from duban.model.evaluators import Evaluator
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.scoring import ScoreSource
from duban.model.validation import Grid, Position

RECORDED_EVENT = "evaluation.ballot-recorded"


@dataclass(frozen=True)
class ReturnedBallot:
    """A ballot as intake received it: whose its token says it is, who sent it, its file and
    cells."""

    identity: BallotIdentity
    sender: str
    sha256: str
    received_at: datetime
    sheets: Mapping[str, Grid]
    template_version: str | None = None
    uncomputed: Mapping[str, Collection[Position]] = field(default_factory=dict)
    intake_file_id: int | None = None
    vouched_by: str | None = None
    """The coordinator who accepted a held ballot in review, vouching that it is the
    evaluator's though another address sent it: the sender is not checked."""


@dataclass(frozen=True)
class Recorded:
    """The ballot as recorded (``new``: now; otherwise the same file recorded before): the
    units on it, the marks given, the marks that will not count (unit → as written), whether
    it came after the close, and the evaluator's ballot it follows (received before it)."""

    evaluator: Evaluator
    source: ScoreSource
    label: str
    units: int
    marked: int
    spoiled: dict[str, str]
    closes: datetime
    late: bool
    new: bool
    first_received: datetime
    """When this file was first received (itself when ``new``)."""
    earlier: datetime | None = None
    """The evaluator's latest other ballot received before this one, if any."""
    earlier_counts: bool = False
    """That earlier ballot came before the close (so it still counts when this one is late)."""
    later: datetime | None = None
    """The evaluator's latest other ballot received after this one (the same file sent again
    after another, or messages read out of order): that one counts over this one."""


def record_ballot(
    session: Session, bundle: CampaignBundle, clock: Clock, returned: ReturnedBallot
) -> Held | Refused | Recorded:
    """Record a returned ballot, or say why not (see the module's docstring)."""
    found = _whose(session, bundle, returned)
    if isinstance(found, Held):
        return found
    source, evaluator, closes = found
    identity = returned.identity
    hold_write_lock(session.connection(), f"ballots:{bundle.campaign.id}:{source.id}:"
                    f"{identity.round_label}:{evaluator.id}")  # fmt: skip
    rows = _ballots(session, bundle.campaign.id, identity, evaluator.id)
    rated = evaluator.rated(bundle.units)
    same = next((r for r in rows if _same_file(r, returned)), None)
    if same is not None:
        return _recorded(source, evaluator, identity.round_label, rated, closes, same, rows,
                         new=False)  # fmt: skip
    reading = _read(bundle, source, rated, returned)
    if reading.problems:
        return Refused(reading.problems)
    row = BallotRow(
        campaign_id=bundle.campaign.id, source_id=source.id, label=identity.round_label,
        evaluator_id=evaluator.id, category=evaluator.category, sha256=returned.sha256,
        intake_file_id=returned.intake_file_id, sender=returned.sender[:254],
        received_at=returned.received_at, recorded_at=clock.now(), marks=reading.marks,
        comments=reading.comments,
    )  # fmt: skip
    session.add(row)
    late = returned.received_at >= closes
    append_event(
        session, clock, RECORDED_EVENT, campaign_id=bundle.campaign.id,
        subject=round_subject(source.id, identity.round_label), actor=evaluator.id,
        payload={"evaluator": evaluator.id, "sha256": returned.sha256, "late": late,
                 "marked": len(reading.marks), "spoiled": len(reading.spoiled)},
    )  # fmt: skip
    session.flush()
    return _recorded(source, evaluator, identity.round_label, rated, closes, row, rows, new=True)


def _whose(
    session: Session, bundle: CampaignBundle, returned: ReturnedBallot
) -> tuple[ScoreSource, Evaluator, datetime] | Held:
    """The source, the evaluator and the round's close, or why the ballot is held."""
    identity = returned.identity
    evaluator = next((e for e in bundle.evaluators if e.id == identity.evaluator_id), None)
    if evaluator is None:
        return Held("unknown-evaluator", {"evaluator": identity.evaluator_id})
    vouched = returned.vouched_by is not None
    if not vouched and returned.sender.strip().lower() != evaluator.email.strip().lower():
        detail = {"sender": returned.sender, "name": evaluator.name, "evaluator": evaluator.id,
                  "email": evaluator.email}  # fmt: skip
        return Held("not-evaluator", detail)
    sources = bundle.campaign.scoring.sources
    source = next((s for s in sources if s.id == identity.source_id
                   and s.kind == "public-evaluation"), None)  # fmt: skip
    sent = ballot_round(session, bundle.campaign.id, identity.source_id, identity.round_label)
    if source is None or sent is None:
        return Held("no-ballot-round", {"name": evaluator.name, "evaluator": evaluator.id,
                                        "source": identity.source_id,
                                        "round": identity.round_label})  # fmt: skip
    return source, evaluator, sent.closes


def _ballots(
    session: Session, campaign_id: str, identity: BallotIdentity, evaluator_id: str
) -> list[BallotRow]:
    return list(
        session.scalars(
            select(BallotRow)
            .where(
                BallotRow.campaign_id == campaign_id,
                BallotRow.source_id == identity.source_id,
                BallotRow.label == identity.round_label,
                BallotRow.evaluator_id == evaluator_id,
            )
            .order_by(BallotRow.id)
        )
    )


def _same_file(row: BallotRow, returned: ReturnedBallot) -> bool:
    """The same bytes, or this very intake file recorded before a crash."""
    mine = returned.intake_file_id is not None and row.intake_file_id == returned.intake_file_id
    return mine or row.sha256 == returned.sha256


def _read(
    bundle: CampaignBundle, source: ScoreSource, rated: Sequence[Unit], returned: ReturnedBallot
) -> BallotReading:
    form = ballot_form(source, len(rated), bundle.campaign.language)
    return read_ballot(form, source.ballot_spec, rated, returned.sheets,
                       version=returned.template_version,
                       uncomputed=returned.uncomputed)  # fmt: skip


def _recorded(
    source: ScoreSource,
    evaluator: Evaluator,
    label: str,
    rated: Sequence[Unit],
    closes: datetime,
    row: BallotRow,
    others: Sequence[BallotRow],
    *,
    new: bool,
) -> Recorded:
    """What the answer says of a recorded ballot, read from its row (so the same file sent
    again is told what it was told the first time, marks included)."""
    spec = source.ballot_spec
    marks = {str(u): str(m) for u, m in row.marks.items()}
    spoiled = {u: m for u, m in marks.items() if points_of(m, spec) is None}
    before = [r for r in others if r is not row and r.received_at <= row.received_at]
    after = [r for r in others if r is not row and r.received_at > row.received_at]
    earlier = max(before, key=lambda r: (r.received_at, r.id), default=None)
    later = max((r.received_at for r in after), default=None)
    return Recorded(
        evaluator, source, label, len(rated), len(marks), spoiled, closes,
        late=row.received_at >= closes, new=new, first_received=row.received_at,
        earlier=None if earlier is None else earlier.received_at,
        earlier_counts=earlier is not None and earlier.received_at < closes, later=later,
    )  # fmt: skip
