"""The simulated campaign behind ``make demo``: the example campaign on a simulated clock.

It uses the same code paths as production (load, migrate, register, status) against a SQLite
ledger in a demo folder that it empties first, so it can be run again and again. Each later
stage (notices, intake, chasing, bulletins) joins it as it is built.
"""

from __future__ import annotations

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from . import reports
from .clock import FixedClock
from .ledger.db import make_engine, migrate, session_scope
from .ledger.store import register
from .loader import CampaignBundle, load_campaign

MARKER = ".duban-demo"


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
    console.print(_timeline(bundle, engine, clock))
    console.print(f"\nledger: {home / 'duban.sqlite3'}")
    engine.dispose()


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
