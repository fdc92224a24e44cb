"""``duban inspect``: inspections drawn at random (双随机), as the coordinator runs them.

``commit`` records what a draw will rest on before the seed is known; ``draw`` applies the
seed (committing first when nothing is committed); ``approve`` fixes the teams after the
coordinator has seen them; ``notify`` sends the teams their units and scoresheets;
``recuse`` stands one inspector down from one unit; ``verify`` recomputes a past draw from
the ledger; ``status`` lists the rounds; ``publish`` writes the page an office posts;
``report`` the round's summary workbook and bulletin (督查通报). Each
builds one ``Runtime`` and calls one of ``inspect.commands``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.language import pick, speaking
from duban.cli.tables import house_table
from duban.errors import is_chinese
from duban.inspect import commands
from duban.inspect.draw import Draw
from duban.inspect.drawing import RoundRequest
from duban.inspect.inputs import Overrides
from duban.inspect.rounds import STATE_ZH
from duban.model.loader import CampaignBundle
from duban.runtime import Runtime

inspect = typer.Typer(
    help="Inspections drawn at random (双随机): commit, draw, approve, recuse, verify, "
    "publish, report.",
    no_args_is_help=True,
)
out = Console()

Inspection = Annotated[str, typer.Argument(help="the inspection's id in the campaign file")]
Round = Annotated[
    str | None,
    typer.Option("--round", help="the round: a period such as 2026-Q2, or a label (default: "
                 "this period's, or today's for an ad hoc inspection)"),
]  # fmt: skip
Count = Annotated[
    int | None, typer.Option("--count", min=1, help="units drawn per stratum (default: the file's)")
]
Tags = Annotated[
    list[str] | None,
    typer.Option("--tag", help="only units carrying this tag (repeat for several)"),
]
By = Annotated[str, typer.Option(help="who acts (kept in the audit trail)")]


def _request(inspection: str, label: str | None, count: int | None, tags: list[str] | None,
             by: str, reason: str | None = None) -> RoundRequest:  # fmt: skip
    return RoundRequest(inspection, label, Overrides(count, tuple(tags or ())), None, reason, by)


@inspect.command(name="commit")
@reports_errors
def commit_command(
    campaign: CampaignFile,
    inspection: Inspection,
    label: Round = None,
    count: Count = None,
    tag: Tags = None,
    reason: Annotated[
        str | None, typer.Option(help="why commit again (needed once a round has a commitment)")
    ] = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Record a round's commitment (registers, parameters) before its seed is known."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.commit(rt, _request(inspection, label, count, tag, by, reason))
    out.print(pick(
        f"round {done.label}, commitment {done.attempt}: {done.commitment_id}\n"
        "publish this id before the seed is known; then `duban inspect draw … --seed …`",
        f"第 {done.label} 轮，第 {done.attempt} 次承诺：{done.commitment_id}\n"
        "请在随机种子产生之前公布此编号；然后运行 `duban inspect draw … --seed …`",
    ), soft_wrap=True)  # fmt: skip


@inspect.command(name="draw")
@reports_errors
def draw_command(
    campaign: CampaignFile,
    inspection: Inspection,
    seed: Annotated[
        str, typer.Option(help="the seed: typed, or a public number such as a lottery result")
    ],
    label: Round = None,
    count: Count = None,
    tag: Tags = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Draw the units and their teams with a seed; nobody is told until `approve`."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.draw(rt, _request(inspection, label, count, tag, by), seed)
        bundle = rt.bundle
    if done.already:
        out.print(pick(f"round {done.label} was drawn with this seed before; as drawn:",
                       f"第 {done.label} 轮此前已用此种子抽取，结果如下："))  # fmt: skip
    out.print(draw_table(done.result, bundle, done.label))
    out.print(pick(
        f"result {done.result.hash}\nreview it, then `duban inspect approve … {inspection} "
        f"--round {done.label}`",
        f"结果摘要 {done.result.hash}\n核对无误后运行 `duban inspect approve … {inspection} "
        f"--round {done.label}`",
    ), soft_wrap=True)  # fmt: skip


@inspect.command(name="approve")
@reports_errors
def approve_command(
    campaign: CampaignFile,
    inspection: Inspection,
    label: Round = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Approve a drawn round: its teams are fixed and may be notified."""
    with Runtime(settings_for(as_of), campaign) as rt:
        name, before = commands.approve(rt, inspection, label, by)
    out.print(pick(f"round {name} was approved before" if before else f"round {name} approved",
                   f"第 {name} 轮此前已审定" if before else f"第 {name} 轮已审定"))  # fmt: skip


@inspect.command(name="notify")
@reports_errors
def notify_command(
    campaign: CampaignFile, inspection: Inspection, label: Round = None, as_of: AsOf = None
) -> None:
    """Send the approved round's notices: each inspector their units and scoresheets."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.notify(rt, inspection, label)
    start, end = done.window
    if done.already:
        out.print(pick(f"round {done.label} was notified before; nothing sent",
                       f"第 {done.label} 轮此前已通知，本次未发送"))  # fmt: skip
        return
    out.print(pick(
        f"round {done.label}: {done.sent} messages sent to {done.inspectors} inspectors"
        f" (visiting {done.units} units, {start} to {end})",
        f"第 {done.label} 轮：向 {done.inspectors} 名检查人员发出 {done.sent} 封通知"
        f"（检查 {done.units} 个单位，{start} 至 {end}）",
    ))  # fmt: skip
    if done.unsent:
        out.print(pick(f"{len(done.unsent)} not sent yet: run it again",
                       f"{len(done.unsent)} 封尚未发出：请再运行一次"))  # fmt: skip


@inspect.command(name="recuse")
@reports_errors
def recuse_command(
    campaign: CampaignFile,
    inspection: Inspection,
    unit: Annotated[str, typer.Argument(help="the drawn unit's id")],
    inspector: Annotated[str, typer.Argument(help="the inspector's id in the register")],
    reason: Annotated[str, typer.Option(help="why the inspector stands down (published)")],
    label: Round = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Stand one inspector down from one unit (回避); the next eligible one takes the place."""
    with Runtime(settings_for(as_of), campaign) as rt:
        changed = commands.recuse(rt, inspection, label, unit, inspector, note=reason, actor=by)
    team = changed.team(unit).inspectors
    out.print(pick(f"{unit}'s team is now {', '.join(team)}",
                   f"{unit} 的检查组调整为：{'、'.join(team)}"))  # fmt: skip


@inspect.command(name="verify")
@reports_errors
def verify_command(
    campaign: CampaignFile, inspection: Inspection, label: Round = None, as_of: AsOf = None
) -> None:
    """Recompute a past draw from the ledger and say whether it matches (exit 1 if not)."""
    with Runtime(settings_for(as_of), campaign) as rt:
        verdict = commands.verify(rt, inspection, label)
    for line in verdict.said("zh-CN" if is_chinese(speaking()) else "en"):
        out.print(escape(line), soft_wrap=True)
    if not verdict.matches:
        raise typer.Exit(1)


@inspect.command(name="status")
@reports_errors
def status_command(
    campaign: CampaignFile,
    inspection: Annotated[str | None, typer.Argument(help="only this inspection")] = None,
    as_of: AsOf = None,
) -> None:
    """List the rounds: state, commitments, seed, units drawn."""
    with Runtime(settings_for(as_of), campaign) as rt:
        views = commands.status(rt, inspection)
    table = house_table(pick("Inspection rounds", "督查轮次"))
    for heading in (
        pick("inspection", "督查"),
        pick("round", "轮次"),
        pick("state", "状态"),
        pick("attempt", "承诺"),
        pick("seed", "种子"),
        pick("units", "抽中单位"),
    ):
        table.add_column(heading)  # fmt: skip
    for v in views:
        state = pick(v.state, STATE_ZH.get(v.state, v.state))
        table.add_row(v.inspection_id, v.label, state, str(v.attempts), escape(v.seed or "—"),
                      " ".join(v.units) or "—")  # fmt: skip
    if not views:
        out.print(pick("no round yet: `duban inspect draw`", "还没有轮次：`duban inspect draw`"))
        return
    out.print(table)


@inspect.command(name="publish")
@reports_errors
def publish_command(
    campaign: CampaignFile,
    inspection: Inspection,
    label: Round = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="a file or folder (default: under DUBAN_HOME/out/CAMPAIGN/)"),
    ] = None,
    as_of: AsOf = None,
) -> None:
    """Write the draw's publication page (双随机一公开): registers, hashes, seed, result."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.publication(rt, inspection, label, out_path)
    out.print(escape(str(done.path)), soft_wrap=True)


@inspect.command(name="report")
@reports_errors
def report_command(
    campaign: CampaignFile,
    inspection: Inspection,
    label: Round = None,
    send: Annotated[
        bool, typer.Option("--send", help="mail the bulletin to the distribution list")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Write the round's summary workbook (督查汇总表) and bulletin (督查通报); --send mails it."""
    with Runtime(settings_for(as_of), campaign) as rt:
        rt.check(smtp=send)
        done = commands.report(rt, inspection, label, send=send)
    out.print(pick(
        f"round {done.label}: {done.drawn} units drawn, {done.returned} scoresheets returned, "
        f"{done.pending} pending, {done.findings} findings",
        f"第 {done.label} 轮：抽查 {done.drawn} 个单位，收回评分表 {done.returned} 份，"
        f"未返回 {done.pending} 份，发现问题 {done.findings} 条",
    ))  # fmt: skip
    for path in (done.workbook, done.docx, done.html):
        out.print(escape(str(path)), soft_wrap=True)
    if send:
        out.print(pick(f"bulletin sent: {done.sent} message(s) now",
                       f"通报已发送：本次发出 {done.sent} 封"))  # fmt: skip


def draw_table(result: Draw, bundle: CampaignBundle, label: str) -> object:
    names = {i.id: i.name for i in bundle.inspectors}
    strata = {u: p.stratum for p in result.picks for u in p.units}
    table = house_table(pick(f"Round {label}: {len(result.units)} units drawn",
                             f"第 {label} 轮：抽中 {len(result.units)} 个单位"))  # fmt: skip
    for heading in (pick("stratum", "分层"), pick("unit", "单位"), pick("team", "检查组")):
        table.add_column(heading)
    for team in result.teams:
        unit = bundle.units_by_id.get(team.unit_id)
        shown = f"{team.unit_id} {unit.name}" if unit else team.unit_id
        members = pick(", ", "、").join(f"{names.get(i, i)}" for i in team.inspectors)
        table.add_row(strata.get(team.unit_id, ""), shown, members)
    return table
