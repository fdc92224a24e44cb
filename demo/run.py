"""Run the example campaign offline: the production flows against a local mail server, on a
simulated clock, in a demo folder that is emptied first (so it can be run again and again).

The flows are configured the way a deployment configures them, through ``DUBAN_*`` variables;
only the SMTP server (``LocalSmtpServer``, delivering into a Maildir under the demo folder) and
the clock (``as_of``) are the demo's. Each stage joins the demo as it is built.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, func, select

from duban.archive.sources import register_and_keep
from duban.cli import tables as reports
from duban.clock import FixedClock
from duban.implement.intake.rawstore import RawStore
from duban.inspect.commands import Reported
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow, IntakeFileRow, MessageRow, SubmissionRow
from duban.model.assignment import InstanceSpec
from duban.model.ladder import rung_time
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.overview import status_report
from duban.runtime import Runtime
from duban.selfcheck.commands import verify, write_ledger
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import list_items
from duban.selfcheck.states import Action, Move, State
from duban.settings import load_settings
from duban.testing.botserver import LocalBotServer
from duban.testing.mailserver import LocalSmtpServer

from .archive import archive_year
from .board import open_board
from .evaluation import Evaluated, evaluate_year, evaluation_table
from .inspection import Inspected, draw_table, inspect_quarter, report_round, return_sheets
from .keytasks import Copy, Mail, copies_in, key_task_table, lead_replies, part_replies
from .units import PLAN_ROLES, Reply, notices_by_unit, replies_to, send

MARKER = ".duban-demo"
DEMO_SECRET = "duban demo secret: not for real campaigns"
SCHEDULE = [
    ("plan", "2026-02-10"),
    ("progress-parts", "2026-03-06"),
    ("progress", "2026-03-06"),
    ("self-check", "2026-09-01"),
    ("rectification", "2026-10-09"),
]
"""The deliverables whose notices the demo sends (each one's next period), and the day: every
one is answered by the simulated units, chased, collected and compiled. The key tasks'
quarterly progress goes in two steps: the partners' parts (``progress-parts``, compiled with
the leads' reports) and the leads' reports, answered from the copies chase sends them
(``keytasks``). The self-check's
problem lists become rectification items; the September progress report (整改进展) goes out
after the National Day holiday, each unit's template listing its open items."""
VERIFIER = "coordinator"
RETURNED = "佐证材料不足：请补充整改前后对比照片和制度文件"
ROLES = {"plan": PLAN_ROLES}
"""Deliverables with a cast of their own; the others draw one (``units.roles_for``)."""
COMPILE_AFTER = 4
"""Working days after a period's due day on which its summary and bulletin are compiled."""


@dataclass
class Walk:
    """What the walk through the simulated days did and produced."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    mobilized: list[tuple[str, str]] = field(default_factory=list)
    compiled: list[dict[str, Any]] = field(default_factory=list)
    ledger: Path | None = None
    end: datetime | None = None
    inspected: Inspected | None = None
    reported: Reported | None = None
    evaluated: Evaluated | None = None
    copies: list[Copy] = field(default_factory=list)
    """The leads' consolidated copies (牵头汇总) chase sent, in order."""
    to_leads: list[Mail] = field(default_factory=list)
    """Every message chase sent a key task's lead (its copies, its reminders)."""


def run_demo(campaign_path: Path, home: Path, console: Console) -> None:
    bundle = load_campaign(campaign_path)
    console.print(reports.validation_summary(bundle))
    _fresh_home(home)
    zone = bundle.campaign.zone
    first_phase = min(p.start for p in bundle.campaign.phases)
    clock = FixedClock(datetime.combine(first_phase, time(9, 0), tzinfo=zone))
    engine = make_engine(f"sqlite:///{(home / 'duban.sqlite3').resolve()}")
    migrate(engine)
    with session_scope(engine) as session:
        report = register_and_keep(session, bundle, RawStore(home / "raw"), clock, actor="demo")
    console.print(reports.register_summary(bundle, report))
    sent, inbox = home / "mail" / "sent", home / "mail" / "inbox"
    with (
        LocalSmtpServer(maildir=sent) as outgoing,
        LocalSmtpServer(maildir=inbox, clock=clock) as office,
        LocalBotServer(secrets={}, clock=None) as bots,
        _flow_settings(home, outgoing.url(), f"maildir:{inbox}", bots.url("wecom", "demo")),
    ):
        walk = _walk_days(console, campaign_path, bundle, outgoing, office.port, clock)
        bot_posts = len(bots.requests)
    assert walk.end is not None
    console.print(_steps_table(walk.steps))
    console.print(_replies_table(bundle, engine, walk))
    for deliverable_id, period in walk.mobilized:
        if bundle.campaign.deliverable(deliverable_id).partners is not None:
            console.print(key_task_table(bundle, engine, deliverable_id, period, walk.to_leads))
    console.print(_rectification_table(bundle, engine))
    if walk.inspected is not None:
        names = {u.id: u.name for u in bundle.units}
        console.print(draw_table(walk.inspected, names))
    if walk.evaluated is not None:
        console.print(evaluation_table(walk.evaluated))
    console.print(_timeline(bundle, engine, clock))
    console.print(_outputs(home, sent, inbox, engine, walk, bot_posts))
    last = max([walk.end, *(step["at"] for step in walk.steps)])  # the evaluation's last step
    archive_year(bundle, home, engine, last, console)
    open_board(home, engine, last, DEMO_SECRET, console)
    engine.dispose()


def _first_due(bundle: CampaignBundle, deliverable_id: str, period: str) -> InstanceSpec:
    """The duty of a deliverable period due first (all are due together unless extended)."""
    return min(
        (
            s
            for s in bundle.instances()
            if s.deliverable_id == deliverable_id and s.period == period
        ),
        key=lambda s: s.due_at,
    )


def _walk_days(
    console: Console,
    campaign_path: Path,
    bundle: CampaignBundle,
    outgoing: LocalSmtpServer,
    port: int,
    clock: FixedClock,
) -> Walk:
    """Day by day from the first notices: at 09:00 the office sends the notices of the day,
    chases and compiles the periods due a few working days before; the units that reply that
    day send; the office collects at 18:00. The walk ends with the last compile.

    The leads of key tasks answer the consolidated copies chase sends them (``_answer_copies``),
    not their notice: their replies are planned as the copies arrive.

    A deployment runs chase every working day; the demo runs it on the days a rung of the
    ladder falls for the periods it sent, at the rung's time (on the other days chase finds
    nothing to send), which keeps the walk short."""
    zone = bundle.campaign.zone
    mobilizing: dict[date, list[str]] = {}
    for deliverable_id, when in SCHEDULE:
        mobilizing.setdefault(date.fromisoformat(when), []).append(deliverable_id)
    chasing: dict[date, set[datetime]] = {}
    compiling: dict[date, list[tuple[str, str]]] = {}
    reminding: dict[date, list[tuple[str, str, datetime]]] = {}
    walk = Walk()
    day, last = min(mobilizing), max(mobilizing)
    with Progress(console=console, transient=True) as progress:
        walking = progress.add_task("simulated days", total=None)
        while day <= last:
            progress.update(walking, advance=1, description=str(day))
            morning = datetime.combine(day, time(9, 0), zone)
            for deliverable_id in mobilizing.get(day, []):
                period, chase_at, done = _send_notices(console, campaign_path, bundle, outgoing,
                                                       deliverable_id, morning, walk)  # fmt: skip
                remind_at = _remind_time(bundle, deliverable_id, period)
                reminding.setdefault(remind_at.date(), []).append(
                    (deliverable_id, period, remind_at)
                )
                for at in chase_at:
                    chasing.setdefault(at.date(), set()).add(at)
                if bundle.campaign.deliverable(deliverable_id).part_of is None:
                    compiling.setdefault(done, []).append((deliverable_id, period))
                last = max(last, done)
            for at in sorted(chasing.get(day, set())):
                before = len(outgoing.messages)
                walk.steps += _chase(campaign_path, at)
                _answer_copies(bundle, [(d.rcpt_tos, d.raw) for d in outgoing.messages[before:]],
                               at, walk)  # fmt: skip
            for deliverable_id, period, at in reminding.get(day, []):
                walk.steps.append(_remind(campaign_path, deliverable_id, period, at))
            for deliverable_id, period in compiling.get(day, []):
                compiled = _compile(console, campaign_path, deliverable_id, period, morning)
                walk.steps.append(compiled)
                walk.compiled.append(compiled)
                if bundle.campaign.deliverable(deliverable_id).rectification_progress:
                    walk.steps.append(_verify(campaign_path, morning + timedelta(hours=1)))
            walk.end = datetime.combine(day, time(18, 0), zone)
            todays = sorted((r for r in walk.replies if r.at.date() == day), key=lambda r: r.at)
            if todays:
                send(todays, port, clock)
                walk.steps.append(_collect(campaign_path, walk.end))
            day += timedelta(days=1)
    inspect_day = bundle.calendar.next_working_day(day)
    before = len(outgoing.messages)
    walk.inspected = inspect_quarter(campaign_path, datetime.combine(inspect_day, time(9), zone))
    walk.steps += walk.inspected.steps
    told = [(d.rcpt_tos, d.raw) for d in outgoing.messages[before:]]
    collected = return_sheets(bundle, walk.inspected, told,
                              lambda replies: send(replies, port, clock),
                              lambda at: _collect(campaign_path, at))  # fmt: skip
    walk.steps += collected
    walk.end = collected[-1]["at"]
    walk.ledger = _write_ledger(campaign_path, walk.end)
    next_day = bundle.calendar.add_working_days(walk.end.astimezone(zone).date(), 1)
    reported_at = datetime.combine(next_day, time(9), zone)
    walk.reported = report_round(campaign_path, reported_at, walk.inspected)
    walk.steps.append(_step_of_report(walk.reported, reported_at))
    walk.end = reported_at
    walk.evaluated = evaluate_year(
        campaign_path, bundle, lambda: [(d.rcpt_tos, d.raw) for d in outgoing.messages],
        lambda replies: send(replies, port, clock), lambda at: _collect(campaign_path, at),
    )  # fmt: skip
    walk.steps += walk.evaluated.steps
    return walk


def _verify(campaign_path: Path, at: datetime) -> dict[str, Any]:
    """The coordinator verifies the completions units claimed (核验销号): returns the first
    with a reason (退回), closes the others (销号), as `duban rectify close|return` do."""
    with Runtime(load_settings(now=at.isoformat()), campaign_path) as rt:
        with rt.session() as session:
            claimed = list_items(session, rt.bundle.campaign.id, states=[State.CLAIMED])
        for position, item in enumerate(claimed):
            move = (
                Move(Action.RETURN, VERIFIER, reason=RETURNED)
                if position == 0
                else Move(Action.CLOSE, VERIFIER, note="经核验，同意销号")
            )
            verify(rt, item.code, move)
    moved = {"returned": min(1, len(claimed)), "closed": max(0, len(claimed) - 1)}
    return {"at": at, "step": "verify claimed items", "period": "", "count": len(claimed),
            "sent_now": 0, "by_status": moved}  # fmt: skip


def _write_ledger(campaign_path: Path, at: datetime | None) -> Path:
    """The 整改台账 as the walk left it, as `duban rectify ledger` writes it."""
    with Runtime(load_settings(now=at.isoformat() if at else None), campaign_path) as rt:
        return write_ledger(rt).path


def _send_notices(
    console: Console,
    campaign_path: Path,
    bundle: CampaignBundle,
    outgoing: LocalSmtpServer,
    deliverable_id: str,
    at: datetime,
    walk: Walk,
) -> tuple[str, list[datetime], date]:
    """Mobilize a deliverable's next period and have the units that got a notice plan their
    replies. Returns the period, the times its ladder's rungs fall and its compile day."""
    before = len(outgoing.messages)
    step = _mobilize(console, campaign_path, deliverable_id, at)
    walk.steps.append(step)
    period = str(step["period"])
    raws = [(d.rcpt_tos, d.raw) for d in outgoing.messages[before:]]
    notices = notices_by_unit(raws).get((deliverable_id, period), {})
    campaign, calendar, zone = bundle.campaign, bundle.calendar, bundle.campaign.zone
    first = _first_due(bundle, deliverable_id, period)
    due = datetime.combine(first.due_date, time(9, 0), zone)
    roles = ROLES.get(deliverable_id)
    deliverable = campaign.deliverable(deliverable_id)
    if deliverable.part_of is not None:
        lead = campaign.deliverable(deliverable.part_of)
        lead_due = _first_due(bundle, lead.id, period).due_at
        [reminder] = [rung_time(lead_due, rung, calendar, zone).at
                      for rung in campaign.ladder_of(lead) if rung.kind == "reminder"]  # fmt: skip
        walk.replies += part_replies(bundle, deliverable_id, period, notices, at, due, reminder)
    elif deliverable.partners is None:  # a lead answers its copies, not the notice
        walk.replies += replies_to(bundle, deliverable_id, period, notices, at, due, roles)
    walk.mobilized.append((deliverable_id, period))
    rungs = [rung_time(first.due_at, rung, calendar, zone).at
             for rung in campaign.ladder_of(deliverable)]  # fmt: skip
    return period, rungs, calendar.add_working_days(first.due_date, COMPILE_AFTER)


def _answer_copies(
    bundle: CampaignBundle, raws: list[tuple[tuple[str, ...], bytes]], at: datetime, walk: Walk
) -> None:
    """The leads read what chase sent them: each copy holding every partner's part is answered
    (``lead_replies``), in place of an answer to an earlier copy not sent yet."""
    copies, mails = copies_in(bundle, raws, at)
    walk.copies += copies
    walk.to_leads += mails
    for copy in copies:
        due_day = _first_due(bundle, copy.deliverable_id, copy.period).due_date
        answers = lead_replies(bundle, copy, due_day)
        if not answers:
            continue
        walk.replies = [
            r for r in walk.replies
            if not (r.unit_id == copy.unit_id and r.deliverable_id == copy.deliverable_id
                    and r.period == copy.period and r.at >= at)
        ]  # fmt: skip
        walk.replies += answers


def _chase(campaign_path: Path, at: datetime) -> list[dict[str, Any]]:
    from flows.chase import chase

    chased = chase(str(campaign_path), as_of=at.isoformat())
    rungs = dict(chased["sent_by_rung"])
    if chased["escalations"]:
        rungs["escalation"] = chased["escalations"]
    if not rungs:
        return []
    return [{"at": at, "step": "chase", "period": "", "count": sum(rungs.values()),
             "sent_now": sum(rungs.values()), "by_status": rungs}]  # fmt: skip


def _remind_time(bundle: CampaignBundle, deliverable_id: str, period: str) -> datetime:
    """The coordinator's one-click reminder (一键催办): the first working day after the due
    day, at 10:00, to the units that still owe the period."""
    first = _first_due(bundle, deliverable_id, period)
    day = bundle.calendar.add_working_days(first.due_date, 1)
    return datetime.combine(day, time(10, 0), bundle.campaign.zone)


def _remind(campaign_path: Path, deliverable_id: str, period: str, at: datetime) -> dict[str, Any]:
    from flows.remind import remind

    result = remind(str(campaign_path), deliverable_id, period, as_of=at.isoformat())
    by_status = {"reminded": result["sent_now"], "settled": result["settled"]}
    return {"at": at, "step": f"remind {deliverable_id}", "period": period,
            "count": result["owed"], "sent_now": result["sent_now"],
            "by_status": by_status}  # fmt: skip


def _step_of_report(done: Reported, at: datetime) -> dict[str, Any]:
    return {"at": at, "step": "inspect report --send", "period": f"quarterly {done.label}",
            "count": done.drawn, "sent_now": done.sent,
            "by_status": {"returned": done.returned, "findings": done.findings}}  # fmt: skip


def _collect(campaign_path: Path, at: datetime) -> dict[str, Any]:
    from flows.collect import collect

    result = collect(str(campaign_path), as_of=at.isoformat())
    return {"at": at, "step": "collect", "period": "", "count": result["received"],
            "sent_now": result["answered"], "by_status": result["outcomes"]}  # fmt: skip


@contextmanager
def _flow_settings(home: Path, smtp_url: str, intake: str, bots: str) -> Iterator[None]:
    """Point the flows at the demo's folder, mail servers and group bot, as a deployment's
    environment would, and put the caller's environment back afterwards."""
    wanted = {"DUBAN_HOME": str(home), "DUBAN_SECRET": DEMO_SECRET, "DUBAN_SMTP_URL": smtp_url,
              "DUBAN_INTAKE": intake, "DUBAN_BOTS": bots}  # fmt: skip
    dropped = ("DUBAN_DATABASE_URL", "DUBAN_NOW", "DUBAN_TEMPLATES")
    saved = {k: os.environ.get(k) for k in (*wanted, *dropped)}
    os.environ.update(wanted)
    for key in dropped:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _mobilize(
    console: Console, campaign_path: Path, deliverable: str, at: datetime
) -> dict[str, Any]:
    from flows.mobilize import mobilize

    console.rule(f"[bold]{at:%Y-%m-%d %H:%M}[/] mobilize: notices for {deliverable}")
    result = mobilize(str(campaign_path), deliverable, as_of=at.isoformat())
    return {"at": at, "step": f"mobilize {deliverable}", **result}


def _compile(
    console: Console, campaign_path: Path, deliverable: str, period: str, at: datetime
) -> dict[str, Any]:
    from flows.compile import compile_flow

    console.rule(
        f"[bold]{at:%Y-%m-%d %H:%M}[/] compile: {deliverable} {period}, summary and bulletin"
    )
    # As an office does: compiled for review first, then sent a quarter of an hour later;
    # nothing changed in between, so the send mails the very files that were reviewed.
    compile_flow(str(campaign_path), deliverable, period, send=False, as_of=at.isoformat())
    sent_at = at + timedelta(minutes=15)
    [result] = compile_flow(
        str(campaign_path), deliverable, period, send=True, as_of=sent_at.isoformat()
    )
    if result["reused"] is None:
        raise RuntimeError(f"the send of {deliverable} {period} wrote its files again")
    counts = {k: result[k] for k in ("on_time", "late", "missing", "rejected")}
    return {"at": at, "step": f"compile {deliverable}", "period": result["period"],
            "count": result["expected"], "sent_now": result["sent"], "by_status": counts,
            **{k: result[k] for k in ("deliverable", "workbook", "html", "docx")}}  # fmt: skip


def _steps_table(steps: list[dict[str, Any]]) -> Table:
    table = Table(title="what happened")
    for name in ("simulated time", "step", "period", "units", "sent now", "by status"):
        table.add_column(name)
    for step in steps:
        by_status = ", ".join(f"{k} {v}" for k, v in sorted(step.get("by_status", {}).items()))
        table.add_row(
            f"{step['at']:%Y-%m-%d %H:%M}", step["step"], step["period"], str(step["count"]),
            str(step.get("sent_now", 0)), by_status,
        )  # fmt: skip
    return table


def _replies_table(bundle: CampaignBundle, engine: Engine, walk: Walk) -> Table:
    """Per deliverable period the demo sent notices for: the replies the units sent, the
    versions the ledger accepted, and where the duties stand when the walk ends (accepted:
    units with a valid version, on time or late)."""
    assert walk.end is not None
    with session_scope(engine) as session:
        status = status_report(session, walk.end, campaign=bundle.campaign.id)
        versions = session.execute(
            select(InstanceRow.deliverable_id, InstanceRow.period, func.count(SubmissionRow.id))
            .join(SubmissionRow, SubmissionRow.instance_id == InstanceRow.id)
            .where(InstanceRow.campaign_id == bundle.campaign.id)
            .group_by(InstanceRow.deliverable_id, InstanceRow.period)
        )
        accepted = {(d, p): n for d, p, n in versions.tuples()}
    tallies = {(str(r["deliverable"]), str(r["period"])): r
               for r in status["campaigns"][0]["deliverables"]}  # fmt: skip
    counts: dict[tuple[str, str], dict[str, object]] = {}
    for key in walk.mobilized:
        tally = tallies[key]
        counts[key] = {
            "expected (units owing it)": tally["expected"],
            "replies the units sent": sum(
                1 for r in walk.replies if (r.deliverable_id, r.period) == key
            ),
            "versions accepted": accepted.get(key, 0),
            "units accepted": tally["received"],
            "  on time": tally["on_time"],
            "  late": tally["late"],
            "missing": tally["missing"],
            "rejected, not replaced": tally["rejected"],
        }
    table = Table(title=f"replies to every notice sent, as of {walk.end:%Y-%m-%d %H:%M}")
    table.add_column("")
    for deliverable_id, period in walk.mobilized:
        table.add_column(f"{deliverable_id} {period}", justify="right")
    for label in next(iter(counts.values()), {}):
        table.add_row(label, *(str(counts[key][label]) for key in walk.mobilized))
    return table


def _rectification_table(bundle: CampaignBundle, engine: Engine) -> Table:
    """The rectification ledger (整改台账) the problem lists made: items per unit and state."""
    with session_scope(engine) as session:
        items = list_items(session, bundle.campaign.id)
    table = Table(title=f"rectification items (整改台账): {len(items)} from the problem lists")
    for name in ("unit", "items", "first", "last", "states"):
        table.add_column(name)
    by_unit: dict[str, list[Item]] = {}
    for item in items:
        by_unit.setdefault(item.unit_id, []).append(item)
    for unit_id, mine in by_unit.items():
        states = Counter(i.state for i in mine)
        table.add_row(
            bundle.units_by_id[unit_id].name, str(len(mine)), mine[0].code, mine[-1].code,
            ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
        )  # fmt: skip
    return table


def _outputs(
    home: Path,
    sent: Path,
    inbox: Path,
    engine: Engine,
    walk: Walk,
    posts: int,
) -> Table:
    with session_scope(engine) as session:
        recorded = session.scalar(select(func.count()).select_from(MessageRow)) or 0
        held = session.scalar(
            select(func.count()).select_from(IntakeFileRow).where(IntakeFileRow.outcome == "held")
        )
    table = Table(title="outputs", show_header=False)
    table.add_column("what", overflow="fold")
    table.add_column("where", overflow="fold")
    table.add_row("ledger (SQLite)", str(home / "duban.sqlite3"))
    table.add_row("every email duban sent (Maildir)", f"{sent}  ({_count(sent)} messages)")
    table.add_row("every reply received (Maildir)", f"{inbox}  ({_count(inbox)} messages)")
    table.add_row("raw store (every byte received)", str(home / "raw"))
    table.add_row("messages in the ledger", str(recorded))
    table.add_row("held for review", f"{held}  (`duban review` lists them)")
    for result in walk.compiled:
        which = f"{result['deliverable']} {result['period']}"
        sheets = load_workbook(result["workbook"], read_only=True).sheetnames
        chain = "，含“重点工作推进情况”表" if "重点工作推进情况" in sheets else ""
        table.add_row(f"summary workbook (汇总表), {which}{chain}", result["workbook"])
        table.add_row(f"bulletin (通报), HTML, {which}", result["html"])
        table.add_row(f"bulletin (通报), .docx, {which}", result["docx"])
    if walk.ledger is not None:
        table.add_row("rectification ledger (整改台账)", str(walk.ledger))
    if walk.inspected is not None:
        table.add_row("inspection draw, published (双随机抽查结果公示)", str(walk.inspected.page))
    if walk.reported is not None:
        table.add_row("inspection summary workbook (督查汇总表)", str(walk.reported.workbook))
        table.add_row("inspection bulletin (督查通报), .docx", str(walk.reported.docx))
    done = walk.evaluated
    if done is not None and done.outputs is not None:
        table.add_row("evaluation ranking workbook (考核排名表), final", str(done.outputs.ranking))
        table.add_row("evaluation bulletin (考核通报), .docx", str(done.outputs.docx))
        table.add_row("evaluation score sheets (得分说明), final", str(done.sheets))
        table.add_row("accountability list (问责名单), coordinator only",
                      str(done.outputs.accountability))  # fmt: skip
    table.add_row("group-bot posts (escalation, bulletin)", str(posts))
    return table


def _count(maildir: Path) -> int:
    """Messages in a Maildir, the intake's processed sub-folder included."""
    folders = [maildir / name for name in ("new", "cur")]
    folders += [sub / name for sub in maildir.glob(".*") for name in ("new", "cur")]
    return sum(1 for folder in folders if folder.is_dir() for _ in folder.iterdir())


def _fresh_home(home: Path) -> None:
    """Empty the demo folder, but only one the demo made (it holds the marker file)."""
    if home.exists():
        if not (home / MARKER).exists():
            raise FileExistsError(f"{home} exists and is not a demo folder; choose another --home")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("made by `duban demo`; emptied on every run\n", encoding="utf-8")


def _timeline(bundle: CampaignBundle, engine: Engine, clock: FixedClock) -> Table:
    """Walk the clock past each deliverable's first due day and show where the duties stand."""
    zone = bundle.campaign.zone
    table = Table(title="simulated clock: the day before, of and after each first due day")
    for name in ("as of", "deliverable", "period", "expected", "received", "pending", "missing"):
        table.add_column(name)
    firsts = sorted(
        {
            d.id: min(s.due_date for s in bundle.instances() if s.deliverable_id == d.id)
            for d in bundle.campaign.deliverables
        }.items(),
        key=lambda item: item[1],
    )
    for deliverable_id, due in firsts:
        for moment in (due - timedelta(days=1), due, due + timedelta(days=1)):
            clock.set(datetime.combine(moment, time(9, 0), tzinfo=zone))
            row = _first_period_row(engine, clock, bundle.campaign.id, deliverable_id)
            table.add_row(
                moment.isoformat(), deliverable_id, str(row["period"]), str(row["expected"]),
                str(row["received"]), str(row["pending"]), str(row["missing"]),
            )  # fmt: skip
    return table


def _first_period_row(
    engine: Engine, clock: FixedClock, campaign_id: str, deliverable_id: str
) -> dict[str, object]:
    with session_scope(engine) as session:
        result = status_report(
            session, clock.now(), campaign=campaign_id, deliverable=deliverable_id
        )
    rows: list[dict[str, object]] = result["campaigns"][0]["deliverables"]
    return min(rows, key=lambda r: str(r["period"]))
