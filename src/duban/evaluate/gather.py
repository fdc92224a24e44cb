"""Each unit's figures for each source of the campaign's scoring, read from the ledger as it
stood at the evaluation's close (see ``figures`` for the formulas).

What the close cuts, source by source:

* timeliness and completeness: the duties due before the close, each as it stood then (a
  reply accepted after the close does not count; a duty exempted, or not yet due, is not
  owed); a duty refused and never accepted is missing;
* inspection: each approved round's latest scoresheet recorded before the close;
* rectification: the items created before the close; one closed after it is open; cancelled
  items are left out (a cancellation is the coordinator's, with its reason);
* public evaluation: the ballots received before the close the evaluators were told (or the
  evaluation's, if earlier), the latest per evaluator (``ballots.counted_ballots``);
* adjustments: the bonuses and penalties recorded before the close.

A unit of no ranking group is not evaluated (the loader refuses such a campaign).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.evaluate.ballot_ledger import ballot_round, ballots_of
from duban.evaluate.ballots import Ballot, counted_ballots, public_figure, tally_units
from duban.evaluate.figures import (
    Adjustment,
    Duty,
    Figure,
    InspectionRound,
    ItemRecord,
    adjustments_figure,
    completeness_figure,
    inspection_figure,
    rectification_figure,
    timeliness_figure,
)
from duban.inspect.gather import inspection_rounds
from duban.ledger.schema import AdjustmentRow
from duban.ledger.store import instance_facts
from duban.model.loader import CampaignBundle
from duban.model.scoring import ScoreSource
from duban.model.status import InstanceFacts, State, due_day, state_at
from duban.selfcheck.ledger import list_items

DutyState = Literal["on-time", "late", "missing"]
Figures = dict[str, dict[str, Figure]]
"""Unit id → source id → figure."""


def gather_figures(
    session: Session, bundle: CampaignBundle, label: str, closes_at: datetime
) -> Figures:
    """Every grouped unit's figure for every source, as of ``closes_at``."""
    units = [u.id for u in bundle.units_by_id.values()]
    found: Figures = {u: {} for u in units}
    for source in bundle.campaign.scoring.sources:
        column = _column(session, bundle, source, label, closes_at)
        for unit_id in units:
            found[unit_id][source.id] = column.get(unit_id, _nothing(source))
    return found


def _nothing(source: ScoreSource) -> Figure:
    """A unit the source has no record of: no duty owed, never inspected, no item found, no
    ballot (missing); no bonus or penalty is 0, not missing."""
    if source.kind == "adjustments":
        return adjustments_figure(())
    if source.kind == "public-evaluation":
        return public_figure(None, source.ballot_spec)
    return Figure(None)


def _column(
    session: Session, bundle: CampaignBundle, source: ScoreSource, label: str, closes_at: datetime
) -> dict[str, Figure]:
    kind = source.kind
    if kind in ("timeliness", "completeness"):
        duties = _duties(session, bundle, closes_at)
        make = timeliness_figure if kind == "timeliness" else completeness_figure
        return {u: make(d) for u, d in duties.items()}
    if kind == "inspection":
        return {u: inspection_figure(r) for u, r in _rounds(session, bundle, closes_at).items()}
    if kind == "rectification":
        return {u: rectification_figure(i) for u, i in _items(session, bundle, closes_at).items()}
    if kind == "adjustments":
        return {u: adjustments_figure(a) for u, a in _adjustments(session, bundle, closes_at)}
    return public_figures(session, bundle, source, label, closes_at)


def _duties(session: Session, bundle: CampaignBundle, closes_at: datetime) -> dict[str, list[Duty]]:
    zone = bundle.campaign.zone
    owed: dict[str, list[Duty]] = {}
    for facts in instance_facts(session, bundle.campaign.id):
        duty = _duty(facts, closes_at, zone)
        if duty is not None:
            owed.setdefault(facts.unit_id, []).append(duty)
    return owed


def _duty(facts: InstanceFacts, closes_at: datetime, zone: ZoneInfo) -> Duty | None:
    if facts.effective_due > closes_at:
        return None
    state = state_at(facts, closes_at, zone)
    if state == State.EXEMPTED:
        return None
    accepted = [a for a in facts.accepted_at if a <= closes_at]
    received = min(accepted).astimezone(zone).date() if accepted else None
    kind: DutyState = "missing"
    if state in (State.ON_TIME, State.LATE):
        kind = "on-time" if state == State.ON_TIME else "late"
    return Duty(facts.deliverable_id, facts.period, due_day(facts.effective_due, zone), received,
                kind)  # fmt: skip


def _rounds(
    session: Session, bundle: CampaignBundle, closes_at: datetime
) -> Mapping[str, list[InspectionRound]]:
    return inspection_rounds(session, bundle, closes_at)


def _items(
    session: Session, bundle: CampaignBundle, closes_at: datetime
) -> dict[str, list[ItemRecord]]:
    zone = bundle.campaign.zone
    found: dict[str, list[ItemRecord]] = {}
    for item in list_items(session, bundle.campaign.id):
        if item.created_at > closes_at or item.state == "cancelled":
            continue
        closed = item.closed_at if item.closed_at and item.closed_at <= closes_at else None
        due = item.deadline or item.first_deadline or item.created_at.astimezone(zone).date()
        found.setdefault(item.unit_id, []).append(ItemRecord(
            item.code, item.finding, due, None if closed is None else closed.astimezone(zone).date()
        ))  # fmt: skip
    return found


def _adjustments(
    session: Session, bundle: CampaignBundle, closes_at: datetime
) -> Iterable[tuple[str, list[Adjustment]]]:
    rows = session.scalars(
        select(AdjustmentRow)
        .where(AdjustmentRow.campaign_id == bundle.campaign.id,
               AdjustmentRow.recorded_at <= closes_at)
        .order_by(AdjustmentRow.unit_id, AdjustmentRow.ref)
    )  # fmt: skip
    found: dict[str, list[Adjustment]] = {}
    for row in rows:
        found.setdefault(row.unit_id, []).append(
            Adjustment(row.points, row.reason, row.evidence, row.ref)
        )
    return found.items()


def public_figures(
    session: Session, bundle: CampaignBundle, source: ScoreSource, label: str, closes_at: datetime
) -> dict[str, Figure]:
    """The public-evaluation figure of each unit rated on the ballots that count (the
    archive's recount computes them again from the raw ballots with this)."""
    spec = source.ballot_spec
    counted = _counted(session, bundle, source, label, closes_at)
    return {u: public_figure(t, spec) for u, t in tally_units(counted, spec).items()}


def _counted(
    session: Session, bundle: CampaignBundle, source: ScoreSource, label: str, closes_at: datetime
) -> list[Ballot]:
    """The ballots that count: received before the close the evaluators were told (or the
    evaluation's, if earlier), the latest per evaluator."""
    sent = ballot_round(session, bundle.campaign.id, source.id, label)
    close = closes_at if sent is None else min(sent.closes, closes_at)
    return counted_ballots(ballots_of(session, bundle.campaign.id, source.id, label), close)[0]


def ballot_comments(
    session: Session, bundle: CampaignBundle, label: str, closes_at: datetime
) -> dict[str, dict[str, list[str]]]:
    """Per public-evaluation source and unit, the comments (意见建议) of the ballots that count,
    for the coordinator: sorted, so that their order tells nothing of who wrote which, and
    never with the evaluator (a comment is the unit's to read without a name)."""
    found: dict[str, dict[str, list[str]]] = {}
    for source in bundle.campaign.scoring.sources:
        if source.kind != "public-evaluation":
            continue
        by_unit: dict[str, list[str]] = {}
        for ballot in _counted(session, bundle, source, label, closes_at):
            for unit_id, text in ballot.comments.items():
                if text.strip():
                    by_unit.setdefault(unit_id, []).append(text.strip())
        found[source.id] = {u: sorted(texts) for u, texts in sorted(by_unit.items())}
    return found
