"""Run the example campaign offline: the production flows against a local mail server, on a
simulated clock, in a demo folder that is emptied first (so it can be run again and again).

The flows are configured the way a deployment configures them, through ``DUBAN_*`` variables;
only the SMTP server (``LocalSmtpServer``, delivering into a Maildir under the demo folder) and
the clock (``as_of``) are the demo's. Each stage joins the demo as it is built.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, func, select

from duban import reports
from duban.botserver import LocalBotServer
from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import IntakeFileRow, MessageRow
from duban.ledger.store import register
from duban.loader import CampaignBundle, load_campaign
from duban.mailserver import LocalSmtpServer

from .units import Reply, notices_by_unit, plan_replies, send

MARKER = ".duban-demo"
DEMO_SECRET = "duban demo secret: not for real campaigns"


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
        report = register(session, bundle, clock, actor="demo")
    console.print(reports.register_summary(bundle, report))
    sent, inbox = home / "mail" / "sent", home / "mail" / "inbox"
    with (
        LocalSmtpServer(maildir=sent) as outgoing,
        LocalSmtpServer(maildir=inbox, clock=clock) as office,
        LocalBotServer(secrets={}, clock=None) as bots,
        _flow_settings(home, outgoing.url(), f"maildir:{inbox}", bots.url("wecom", "demo")),
    ):
        steps = [_mobilize(console, campaign_path, "plan", _at(bundle, "2026-02-10"))]
        raws = [(d.rcpt_tos, d.raw) for d in outgoing.messages]
        due = _due(bundle, "plan")
        replies = plan_replies(bundle, notices_by_unit(bundle, raws), due)
        last = bundle.calendar.add_working_days(due.date(), 4)
        steps += _walk_days(console, campaign_path, bundle, replies, office.port, clock, last)
        steps.append(_mobilize(console, campaign_path, "progress", _at(bundle, "2026-03-06")))
        compiled = _compile(console, campaign_path, "plan", _at(bundle, last.isoformat()))
        steps.append(compiled)
        bot_posts = len(bots.requests)
    console.print(_steps_table(steps))
    console.print(_timeline(bundle, engine, clock))
    console.print(_outputs(home, sent, inbox, engine, compiled, bot_posts))
    engine.dispose()


def _due(bundle: CampaignBundle, deliverable_id: str) -> datetime:
    spec = min(
        (s for s in bundle.instances() if s.deliverable_id == deliverable_id),
        key=lambda s: s.due_date,
    )
    return datetime.combine(spec.due_date, time(9, 0), bundle.campaign.zone)


def _walk_days(
    console: Console,
    campaign_path: Path,
    bundle: CampaignBundle,
    replies: list[Reply],
    port: int,
    clock: FixedClock,
    last: date,
) -> list[dict[str, Any]]:
    """Day by day: at 09:00 on working days the office chases; the units that reply that day
    send; the office collects at 18:00."""
    from flows.chase import chase
    from flows.collect import collect

    zone = bundle.campaign.zone
    first = replies[0].at.date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    steps = []
    with Progress(console=console, transient=True) as progress:
        walking = progress.add_task("simulated days", total=len(days))
        for day in days:
            todays = [r for r in replies if r.at.date() == day]
            progress.update(walking, advance=1, description=f"{day} {len(todays)} replies")
            morning = datetime.combine(day, time(9, 0), zone)
            if bundle.calendar.is_working_day(day):
                chased = chase(str(campaign_path), deliverable="plan", as_of=morning.isoformat())
                if chased["sent_by_rung"] or chased["escalations"]:
                    rungs = dict(chased["sent_by_rung"])
                    if chased["escalations"]:
                        rungs["escalation"] = chased["escalations"]
                    steps.append({"at": morning, "step": "chase", "period": "once",
                                  "count": sum(rungs.values()), "sent_now": sum(rungs.values()),
                                  "by_status": rungs})  # fmt: skip
            if not todays:
                continue
            send(todays, port, clock)
            evening = datetime.combine(day, time(18, 0), zone)
            result = collect(str(campaign_path), as_of=evening.isoformat())
            steps.append({"at": evening, "step": "collect", "period": "once",
                          "count": result["received"], "sent_now": result["answered"],
                          "by_status": result["outcomes"]})  # fmt: skip
    return steps


def _at(bundle: CampaignBundle, day: str) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(9, 0), bundle.campaign.zone)


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
    console: Console, campaign_path: Path, deliverable: str, at: datetime
) -> dict[str, Any]:
    from flows.compile import compile_flow

    console.rule(f"[bold]{at:%Y-%m-%d %H:%M}[/] compile: summary workbook and bulletin")
    [result] = compile_flow(str(campaign_path), deliverable, send=True, as_of=at.isoformat())
    counts = {k: result[k] for k in ("on_time", "late", "missing", "rejected")}
    return {"at": at, "step": f"compile {deliverable}", "period": result["period"],
            "count": result["expected"], "sent_now": result["sent"], "by_status": counts,
            **{k: result[k] for k in ("workbook", "html", "docx")}}  # fmt: skip


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


def _outputs(
    home: Path, sent: Path, inbox: Path, engine: Engine, compiled: dict[str, Any], posts: int
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
    table.add_row("summary workbook (汇总表)", compiled["workbook"])
    table.add_row("bulletin (通报), HTML", compiled["html"])
    table.add_row("bulletin (通报), .docx", compiled["docx"])
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
        result = reports.status_report(
            session, clock.now(), campaign=campaign_id, deliverable=deliverable_id
        )
    rows: list[dict[str, object]] = result["campaigns"][0]["deliverables"]
    return min(rows, key=lambda r: str(r["period"]))
