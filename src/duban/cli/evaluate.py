"""``duban evaluate``: the year's evaluation (评议考核), as the coordinator runs it.

``ballots`` sends each evaluator of the register their personal ballot (民主评议测评表) for a
round of the public evaluation, once; returned ballots come back through ``duban collect``.
Each command builds one ``Runtime`` and calls one of ``evaluate.commands``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from duban.adapters.render import format_due
from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.language import pick
from duban.evaluate import commands
from duban.runtime import Runtime

evaluate = typer.Typer(
    help="The year's evaluation (评议考核): public-evaluation ballots out to the evaluators.",
    no_args_is_help=True,
)
out = Console()


@evaluate.command(name="ballots")
@reports_errors
def ballots_command(
    campaign: CampaignFile,
    source: Annotated[
        str, typer.Option("--source", help="the public-evaluation source of the scoring")
    ] = "public-evaluation",
    label: Annotated[
        str | None,
        typer.Option("--label", help="the evaluation's name (default: the campaign's year)"),
    ] = None,
    closes: Annotated[
        str | None,
        typer.Option(
            "--closes",
            help="when ballots close: a date (the whole day counts) or a "
            "local time; needed the first time",
        ),
    ] = None,
    as_of: AsOf = None,
) -> None:
    """Send each evaluator their ballot for the round, once; the close is told and kept."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.ballots(rt, source, label, closes)
        zone = rt.bundle.campaign.zone
    closes_en = format_due(done.closes, zone, "en")
    closes_zh = format_due(done.closes, zone, "zh-CN")
    out.print(pick(
        f"round {done.label}: {done.sent} ballots sent now, to {done.evaluators} evaluators in "
        f"all (closing {closes_en})",
        f"第 {done.label} 轮：本次发出 {done.sent} 份测评表，共 {done.evaluators} 名评议人"
        f"（截止时间：{closes_zh}）",
    ), soft_wrap=True)  # fmt: skip
    if done.unsent:
        out.print(pick(f"{len(done.unsent)} not sent yet: run the command again to retry",
                       f"尚有 {len(done.unsent)} 份未发出：请再次运行本命令重试"))  # fmt: skip
