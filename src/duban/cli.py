"""``duban``: the coordinator's command line, a thin layer over the domain.

Each command builds the settings once, opens what it needs and calls the domain. A
``DubanError`` is printed as a sentence with a hint and exit code 1, never as a traceback.
Commands that run Prefect flows import them lazily, so ``validate``, ``init`` and ``status``
start fast and work without Prefect configured.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from . import reports
from .errors import DubanError
from .ledger.db import make_engine, migrate, session_scope
from .ledger.store import register
from .loader import load_campaign
from .settings import Settings, load_settings

app = typer.Typer(
    help="督办 duban: run phased campaigns over many units by email and spreadsheets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

CampaignFile = Annotated[Path, typer.Argument(help="the campaign YAML file")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="the moment to act as of (ISO date or time; default: now or DUBAN_NOW)"
    ),
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``DubanError`` into a readable message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DubanError as error:
            err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def settings_for(as_of: str | None) -> Settings:
    settings = load_settings()
    return settings if as_of is None else load_settings(now=as_of)


@app.command()
@reports_errors
def validate(campaign: CampaignFile) -> None:
    """Check a campaign file, its forms and its roster; exit 1 listing every problem."""
    bundle = load_campaign(campaign)
    out.print(reports.validation_summary(bundle))


@app.command()
@reports_errors
def init(campaign: CampaignFile, as_of: AsOf = None) -> None:
    """Create or upgrade the ledger and register the campaign and its roster (idempotent)."""
    settings = settings_for(as_of)
    bundle = load_campaign(campaign)
    engine = make_engine(settings.ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        report = register(session, bundle, settings.clock())
    out.print(reports.register_summary(bundle, report))


@app.command()
@reports_errors
def status(
    as_of: AsOf = None,
    campaign: Annotated[str | None, typer.Option(help="only this campaign id")] = None,
    deliverable: Annotated[str | None, typer.Option(help="only this deliverable id")] = None,
    units: Annotated[bool, typer.Option("--units", help="one row per unit as well")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Per deliverable and period: expected, received, on time, late, missing, rejected."""
    settings = settings_for(as_of)
    engine = make_engine(settings.ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        result = reports.status_report(
            session, settings.clock().now(), campaign=campaign, deliverable=deliverable, units=units
        )
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    for table in reports.status_tables(result):
        out.print(table)


@app.command()
@reports_errors
def demo(
    home: Annotated[Path, typer.Option(help="where the demo keeps its ledger and outputs")] = Path(
        "var/demo"
    ),
    campaign: Annotated[Path, typer.Option(help="the campaign to simulate")] = Path(
        "data/example/campaign.yaml"
    ),
) -> None:
    """Run the example campaign on a simulated clock, offline, from a clean demo folder."""
    from .demo import run_demo

    run_demo(campaign, home, out)


def main() -> None:
    app()
