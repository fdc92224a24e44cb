"""From the ledger to a ``CompileInput``: every figure and every row comes from recorded facts.

Titles are gathered as printed (Chinese quotation marks in a Chinese campaign), so the
workbook, the bulletin and the bot post all show them alike. The latest valid version of each
unit counts; the first valid version decides on time or late.
Submissions are streamed (``yield_per``) so a compile of 10,000 units × 50 rows never holds
them all in memory. ``rows_from_raw`` re-reads the stored raw files instead of the stored rows,
which is how a compile is shown to be reproducible from what units actually sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session

from duban.adapters.render import format_due
from duban.compile.model import CompileInput, SubmissionData, Totals, UnitLine
from duban.compile.rectification import RectificationFigures, rectification_figures
from duban.errors import DubanError
from duban.implement.chain_status import TaskStanding, chain_standing
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import sniff
from duban.implement.parts import chain_of
from duban.ledger.db import session_scope
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.ledger.store import instance_facts
from duban.model.campaign import Deliverable
from duban.model.forms import Form, display_title
from duban.model.loader import CampaignBundle
from duban.model.status import InstanceFacts, State, by_deliverable, due_day, state_at, tally
from duban.model.validation import validate_workbook
from duban.selfcheck.commands import roll_of
from duban.selfcheck.ledger import list_items
from duban.selfcheck.rates import Rules

RowSource = Callable[[SubmissionRow], dict[str, list[dict[str, Any]]]]


def latest_period(
    session: Session, bundle: CampaignBundle, deliverable_id: str, as_of: datetime
) -> str:
    """The last period whose due time has passed (what a bulletin after a deadline is about)."""
    period = session.scalar(
        select(InstanceRow.period)
        .where(InstanceRow.campaign_id == bundle.campaign.id,
               InstanceRow.deliverable_id == deliverable_id, InstanceRow.due_at <= as_of)
        .order_by(InstanceRow.due_at.desc())
        .limit(1)
    )  # fmt: skip
    if period is None:
        raise DubanError(
            f"no period of {deliverable_id} is past its deadline yet",
            hint="name the period with --period",
        )
    return period


def due_within(
    session: Session, bundle: CampaignBundle, as_of: datetime, window: timedelta
) -> list[tuple[str, str]]:
    """The (deliverable, period) pairs whose deadline fell in the ``window`` before ``as_of``:
    what a daily compile reports on (a deadline exactly at ``as_of`` is included)."""
    rows = session.execute(
        select(InstanceRow.deliverable_id, InstanceRow.period)
        .where(InstanceRow.campaign_id == bundle.campaign.id,
               InstanceRow.due_at > as_of - window, InstanceRow.due_at <= as_of)
        .distinct()
    ).tuples()  # fmt: skip
    return sorted(set(rows))


def gather(
    engine: Engine,
    bundle: CampaignBundle,
    deliverable_id: str,
    period: str,
    as_of: datetime,
    rows: RowSource | None = None,
) -> CompileInput:
    campaign = bundle.campaign
    if deliverable_id not in {d.id for d in campaign.deliverables}:
        raise DubanError(f"no deliverable {deliverable_id!r}")
    deliverable = campaign.deliverable(deliverable_id)
    with session_scope(engine) as session:
        everything = instance_facts(session, campaign.id)
        facts = [f for f in everything
                 if f.deliverable_id == deliverable_id and f.period == period]  # fmt: skip
        if not facts:
            raise DubanError(f"no {deliverable_id} duties for period {period!r}")
        versions = _versions(session, [f.instance_id for f in facts if f.instance_id])
        figures = (
            _rectification(session, bundle, as_of)
            if deliverable.rectification_progress is not None
            else None
        )
    states = [(f, state_at(f, as_of, campaign.zone)) for f in facts]
    [t] = tally(states, by_deliverable)
    totals = Totals(t.expected, t.received, t.on_time, t.late, t.missing, t.rejected,
                    t.pending, t.exempted)  # fmt: skip
    units = [_line(bundle, f, s, versions.get(f.instance_id or 0), as_of) for f, s in states]
    return CompileInput(
        campaign_id=campaign.id, language=campaign.language, zone=campaign.zone,
        campaign_title=display_title(campaign.title, campaign.language),
        deliverable_id=deliverable_id,
        deliverable_title=display_title(deliverable.title, campaign.language),
        period=period, due_text=format_due(min(f.due_at for f in facts), campaign.zone,
                                           campaign.language),
        as_of=as_of, coordinator_name=campaign.roles.coordinator.name,
        form=campaign.form_of(deliverable), totals=totals,
        units=sorted(units, key=lambda u: u.unit_id),
        submissions=_latest(engine, bundle, [f.instance_id for f in facts if f.instance_id],
                            as_of, rows),
        rectification=figures,
        key_tasks=_key_tasks(bundle, deliverable, period, everything, as_of),
    )  # fmt: skip


def _key_tasks(
    bundle: CampaignBundle,
    deliverable: Deliverable,
    period: str,
    facts: list[InstanceFacts],
    as_of: datetime,
) -> list[TaskStanding] | None:
    """Where each key task's lead and partners stand, for the lead's deliverable of a chain
    (None for any other, the partners' included)."""
    chain = chain_of(bundle.campaign, deliverable)
    if chain is None or chain.lead.id != deliverable.id:
        return None
    names = {u.id: u.name for u in bundle.units_by_id.values()}
    return chain_standing(bundle.campaign, chain, period, facts, names, as_of)


def _rectification(
    session: Session, bundle: CampaignBundle, as_of: datetime
) -> RectificationFigures:
    """The campaign's items as the progress report's bulletin counts them: overdue on the
    compile's local day, by the campaign's calendar, every roster unit listed."""
    campaign = bundle.campaign
    rules = Rules(as_of.astimezone(campaign.zone).date(), bundle.calendar, campaign.zone,
                  roll_of(campaign))  # fmt: skip
    roster = {u.id: (u.name, u.tags) for u in bundle.units_by_id.values()}
    return rectification_figures(list_items(session, campaign.id), rules, roster, as_of)


def _versions(session: Session, instance_ids: list[int]) -> dict[int, tuple[int, datetime, int]]:
    """Per instance: latest version, its time, and how many versions there are."""
    result = session.execute(
        select(SubmissionRow.instance_id, func.max(SubmissionRow.version),
               func.max(SubmissionRow.received_at), func.count())
        .where(SubmissionRow.instance_id.in_(instance_ids))
        .group_by(SubmissionRow.instance_id)
    )  # fmt: skip
    return {row[0]: (row[1], row[2], row[3]) for row in result}


def _line(
    bundle: CampaignBundle,
    facts: Any,
    state: State,
    version: tuple[int, datetime, int] | None,
    as_of: datetime,
) -> UnitLine:
    unit = bundle.units_by_id[facts.unit_id]
    accepted = sorted(t for t in facts.accepted_at if t <= as_of)
    first = accepted[0] if accepted else None
    late_days = None
    if state in (State.LATE, State.OVERDUE, State.REJECTED):
        last = due_day(facts.effective_due, bundle.campaign.zone)
        until = (first or as_of).astimezone(bundle.campaign.zone).date()
        late_days = max(0, bundle.calendar.working_days_between(last, until))
    return UnitLine(
        unit_id=unit.id, unit_name=unit.name, tags=unit.tags, state=state.value,
        due_at=facts.effective_due, first_valid_at=first,
        latest_version=version[0] if version else None,
        latest_received_at=version[1] if version else None,
        versions=version[2] if version else 0, late_working_days=late_days,
    )  # fmt: skip


def _latest(
    engine: Engine,
    bundle: CampaignBundle,
    instance_ids: list[int],
    as_of: datetime,
    rows: RowSource | None,
) -> Iterator[SubmissionData]:
    """The latest version received by ``as_of`` of each instance, streamed in unit order."""
    query = _latest_of(select(SubmissionRow, InstanceRow.unit_id), instance_ids, as_of)
    query = query.execution_options(yield_per=500)
    with session_scope(engine) as session:
        for submission, unit_id in session.execute(query).tuples():
            unit = bundle.units_by_id[unit_id]
            data = submission.rows if rows is None else rows(submission)
            yield SubmissionData(unit.id, unit.name, submission.version,
                                 submission.received_at, submission.sha256, data)  # fmt: skip
            session.expunge(submission)


def versions_used(
    session: Session, campaign_id: str, deliverable_id: str, period: str, as_of: datetime
) -> list[tuple[str, int, str]]:
    """What a compile at ``as_of`` takes its rows from, without reading them: per unit (in
    unit order) the latest version received by then and its file's SHA-256."""
    ids = select(InstanceRow.id).where(InstanceRow.campaign_id == campaign_id,
                                       InstanceRow.deliverable_id == deliverable_id,
                                       InstanceRow.period == period)  # fmt: skip
    columns = select(InstanceRow.unit_id, SubmissionRow.version, SubmissionRow.sha256)
    query = _latest_of(columns, list(session.scalars(ids)), as_of)
    return [(unit, version, sha) for unit, version, sha in session.execute(query).tuples()]


def _latest_of(query: Select[Any], instance_ids: list[int], as_of: datetime) -> Select[Any]:
    """``query`` over the latest version of each instance received by ``as_of``, unit order."""
    latest = (
        select(SubmissionRow.instance_id, func.max(SubmissionRow.version).label("version"))
        .where(SubmissionRow.instance_id.in_(instance_ids), SubmissionRow.received_at <= as_of)
        .group_by(SubmissionRow.instance_id)
        .subquery()
    )
    return (
        query.select_from(SubmissionRow)
        .join(latest, (latest.c.instance_id == SubmissionRow.instance_id)
              & (latest.c.version == SubmissionRow.version))
        .join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
        .order_by(InstanceRow.unit_id)
    )  # fmt: skip


def rows_from_raw(store: RawStore, reader: WorkbookReader, form: Form) -> RowSource:
    """Rows read again from the stored file each unit sent, validated again against the form."""

    def rows(submission: SubmissionRow) -> dict[str, list[dict[str, Any]]]:
        data = store.get(submission.sha256)
        parsed = reader.read_many([(data, sniff(data, None))])[0]
        if isinstance(parsed, FileRejected):
            raise DubanError(f"stored file {submission.sha256[:12]} no longer reads: {parsed}")
        checked = validate_workbook(form, parsed.sheets, None)
        return checked.rows

    return rows
