"""The remind use case (一键催办): a reminder now, outside the ladder, to chosen units that owe.

The coordinator names a deliverable (and a period, units or a roster tag); every chosen unit
that still owes that period (nothing accepted, not exempted) gets the ladder's reminder email,
worded for where its duty stands (due later, due today, overdue), with a fresh workbook (a
progress report's pre-filled with the unit's open items as they stand now). Each is keyed
``remind:<instance>:<local day>`` and goes through the same exactly-once ``dispatch`` as every
rung: a unit gets at most one such reminder a day (in the campaign's zone), whoever asks and
however often, and may get another the next day. Each message sent is a ledger row and an
event naming who asked. A unit that submitted (or was exempted) gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from jinja2 import Environment
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.clock import Clock
from duban.errors import DubanError, UnknownIdError
from duban.implement.chase import reminder_draft, with_open_items
from duban.implement.leadcopy import late_partners, lead_duties
from duban.ledger.store import append_event, instance_facts
from duban.mobilize.notices import NoticeBuilder
from duban.model.campaign import Rung, RungKind
from duban.model.ladder import CHASED
from duban.model.loader import CampaignBundle
from duban.model.status import InstanceFacts, State, state_at
from duban.sending.dispatch import Draft, Outcome, dispatch

KIND = "remind"
SENT = "remind.sent"


@dataclass(frozen=True)
class RemindRequest:
    """Which duties to remind: one deliverable period, limited to units and/or a roster tag."""

    deliverable_id: str
    period: str | None = None
    unit_ids: tuple[str, ...] | None = None
    tag: str | None = None
    by: str = "coordinator"


@dataclass(frozen=True)
class RemindPlan:
    """The chosen duties of one deliverable period: those still owed and those settled."""

    campaign_id: str
    deliverable_id: str
    period: str
    day: date
    owed: tuple[int, ...]
    settled: tuple[str, ...]  # the chosen units that submitted or were exempted


@dataclass
class RemindReport:
    plan: RemindPlan
    outcomes: list[Outcome] = field(default_factory=list)


def remind_key(instance_id: int, day: date) -> str:
    return f"remind:{instance_id}:{day.isoformat()}"


def plan_reminders(
    session: Session, bundle: CampaignBundle, request: RemindRequest, *, as_of: datetime
) -> RemindPlan:
    """The duties the request chooses; a wrong deliverable, period, unit or tag is an error."""
    campaign = bundle.campaign
    known = [d.id for d in campaign.deliverables]
    if request.deliverable_id not in known:
        raise UnknownIdError("deliverable", request.deliverable_id, known)
    chosen_units = _chosen_units(bundle, request)
    facts = [f for f in instance_facts(session, campaign.id)
             if f.deliverable_id == request.deliverable_id]  # fmt: skip
    if not facts:
        raise DubanError(f"the ledger has no duties for {request.deliverable_id!r}",
                         hint="run `duban init CAMPAIGN.yaml` first",
                         zh=f"台账中没有报送事项“{request.deliverable_id}”的报送任务",
                         zh_hint="请先运行 `duban init CAMPAIGN.yaml`")  # fmt: skip
    period = request.period or _default_period(facts, as_of)
    periods = sorted({f.period for f in facts})
    if period not in periods:
        raise UnknownIdError("period", period, periods, where=f" of {request.deliverable_id}",
                             zh_where=f"报送事项“{request.deliverable_id}”")  # fmt: skip
    of_period = [f for f in facts if f.period == period and f.unit_id in bundle.units_by_id]
    if chosen_units is not None:
        if request.unit_ids:
            assigned = {f.unit_id for f in of_period}
            strays = [u for u in request.unit_ids if u not in assigned]
            if strays:
                raise DubanError(
                    f"{', '.join(strays)} owe no {request.deliverable_id} for {period}",
                    hint=f"{len(assigned)} units are assigned it; "
                    f"`duban status --units --deliverable {request.deliverable_id}` lists them",
                    zh=f"单位 {'、'.join(strays)} 在期次“{period}”没有报送事项"
                    f"“{request.deliverable_id}”的报送任务",
                    zh_hint=f"共有 {len(assigned)} 个单位承担此项；"
                    f"`duban status --units --deliverable {request.deliverable_id}` 可列出",
                )
        of_period = [f for f in of_period if f.unit_id in chosen_units]
        if not of_period:
            raise DubanError(
                f"no unit tagged {request.tag!r} is assigned {request.deliverable_id} {period}",
                hint="choose another tag or deliverable (`duban status --by-tag`)",
                zh=f"没有带标签“{request.tag}”的单位承担报送事项“{request.deliverable_id}”"
                f"期次“{period}”",
                zh_hint="请换一个标签或报送事项（`duban status --by-tag` 按标签列出）",
            )
    zone = campaign.zone
    owed = [f for f in of_period if state_at(f, as_of, zone) in CHASED]
    settled = [f.unit_id for f in of_period if state_at(f, as_of, zone) not in CHASED]
    return RemindPlan(
        campaign_id=campaign.id,
        deliverable_id=request.deliverable_id,
        period=period,
        day=as_of.astimezone(zone).date(),
        owed=tuple(f.instance_id for f in owed if f.instance_id is not None),
        settled=tuple(settled),
    )


def _chosen_units(bundle: CampaignBundle, request: RemindRequest) -> set[str] | None:
    """The units named and/or tagged (both given: those named that carry the tag)."""
    chosen: set[str] | None = None
    if request.unit_ids:
        roster = [u.id for u in bundle.units]
        for unit_id in request.unit_ids:
            if unit_id not in bundle.units_by_id:
                raise UnknownIdError(
                    "unit", unit_id, roster, where=" in the roster", zh_where="花名册中"
                )
        chosen = set(request.unit_ids)
    if request.tag is not None:
        tags = sorted({t for u in bundle.units for t in u.tags})
        if request.tag not in tags:
            raise UnknownIdError(
                "tag", request.tag, tags, where=" in the roster", zh_where="花名册中"
            )
        tagged = {u.id for u in bundle.units if request.tag in u.tags}
        chosen = tagged if chosen is None else chosen & tagged
    return chosen


def _default_period(facts: Sequence[InstanceFacts], as_of: datetime) -> str:
    """The period most recently due; before the first deadline, the first period."""
    due: dict[str, datetime] = {}
    for f in facts:
        due[f.period] = min(due.get(f.period, f.due_at), f.due_at)
    past = [p for p, at in due.items() if at <= as_of]
    if past:
        return max(past, key=lambda p: due[p])
    return min(due, key=lambda p: due[p])


def send_reminders(
    session: Session,
    bundle: CampaignBundle,
    instance_ids: Sequence[int],
    *,
    by: str,
    mailer: Mailer,
    clock: Clock,
    env: Environment,
    secret: bytes,
    after_each: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Remind one batch of duties now; a duty settled since it was planned gets nothing, one
    reminded today already gets nothing more. Each message sent is an event naming ``by``."""
    as_of = clock.now()
    zone = bundle.campaign.zone
    day = as_of.astimezone(zone).date()
    wanted = set(instance_ids)
    facts = [f for f in instance_facts(session, bundle.campaign.id) if f.instance_id in wanted]
    owed: list[tuple[InstanceFacts, State]] = []
    for f in facts:
        state = state_at(f, as_of, zone)
        if state in CHASED and f.unit_id in bundle.units_by_id and f.instance_id is not None:
            owed.append((f, state))
    builders: dict[tuple[str, str], NoticeBuilder] = {}
    with_open_items(session, bundle, [(f, f.unit_id) for f, _ in owed], secret=secret,
                    env=env, as_of=as_of, builders=builders)  # fmt: skip
    drafts: list[Draft] = []
    subjects: dict[str, str] = {}
    pressing = late_partners(bundle, lead_duties(session, bundle), as_of)
    for f, state in owed:
        unit = bundle.units_by_id[f.unit_id]
        assert f.instance_id is not None
        key = remind_key(f.instance_id, day)
        draft = reminder_draft(
            bundle, f, state, unit, _wording(f, state, as_of), env=env, secret=secret,
            as_of=as_of, builders=builders, key=key, kind=KIND,
            late_partners=pressing.get(f.instance_id, ()),
        )  # fmt: skip
        drafts.append(draft)
        subjects[key] = f"{f.deliverable_id}/{f.period}/{f.unit_id}"

    def recorded(outcome: Outcome) -> None:
        if outcome.sent_now:
            append_event(
                session, clock, SENT, campaign_id=bundle.campaign.id,
                subject=subjects[outcome.key], actor=by,
                payload={"key": outcome.key, "message_id": outcome.message_id,
                         "status": outcome.status, "recipients": list(outcome.recipients)},
            )  # fmt: skip
        if after_each is not None:
            after_each(outcome)

    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    outcomes = dispatch(session, drafts, mailer, clock, message_id_domain=domain,
                        after_each=recorded)  # fmt: skip
    session.commit()
    return outcomes


def _wording(facts: InstanceFacts, state: State, as_of: datetime) -> Rung:
    """The reminder email's wording for where the duty stands; to the unit only."""
    kind: RungKind = "reminder"
    if as_of >= facts.effective_due:
        kind = "overdue-notice"
    elif state is State.DUE_TODAY:
        kind = "final-notice"
    return Rung(kind=kind, offset_working_days=0, to=["unit"])


def remind(
    session: Session,
    bundle: CampaignBundle,
    request: RemindRequest,
    *,
    mailer: Mailer,
    clock: Clock,
    env: Environment,
    secret: bytes,
) -> RemindReport:
    """Plan and send in one go (the CLI and the flow do the same a batch at a time)."""
    plan = plan_reminders(session, bundle, request, as_of=clock.now())
    outcomes = send_reminders(session, bundle, plan.owed, by=request.by, mailer=mailer,
                              clock=clock, env=env, secret=secret)  # fmt: skip
    return RemindReport(plan, outcomes)
