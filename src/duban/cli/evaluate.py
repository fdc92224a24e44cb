"""``duban evaluate``: the year's evaluation (评议考核), as the coordinator runs it.

``ballots`` sends each evaluator of the register their personal ballot (民主评议测评表) for a
round of the public evaluation, once (returned ballots come back through ``duban collect``);
``adjustments`` imports the bonuses and penalties (加分/扣分); ``compute`` computes the
preliminary scores, ranks and score sheets from the ledger (again whenever an input changed);
``appeal`` records a unit's appeal (复核申请) against one line of its score sheet, ``decide``
the coordinator's decision on it; ``freeze`` fixes the result; ``verify`` recomputes it from
the ledger; ``status`` lists versions and appeals. Each builds one ``Runtime`` and calls one
of ``evaluate.commands``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from duban.adapters.render import format_due
from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.language import pick
from duban.cli.tables import house_table
from duban.errors import DubanError
from duban.evaluate import commands
from duban.evaluate.commands import correction_of
from duban.evaluate.evaluation import Evaluation
from duban.model.loader import CampaignBundle
from duban.runtime import Runtime

evaluate = typer.Typer(
    help="The year's evaluation (评议考核): ballots, adjustments, compute, publish, appeal, "
    "decide, freeze, verify, status.",
    no_args_is_help=True,
)
out = Console()

STATE_ZH = {"preliminary": "初步结果", "frozen": "已定稿", "open": "待处理", "upheld": "成立",
            "rejected": "不成立"}  # fmt: skip
Label = Annotated[
    str | None,
    typer.Option("--label", help="the evaluation's name (default: this year, e.g. 2026)"),
]
By = Annotated[str, typer.Option(help="who acts (kept in the audit trail)")]


@evaluate.command(name="compute")
@reports_errors
def compute_command(
    campaign: CampaignFile,
    label: Label = None,
    closes: Annotated[
        str | None,
        typer.Option(
            "--closes",
            help="the close: nothing recorded later is read (default: "
            "now on the first computation, then the first's)",
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option("--seed", help="the seed of the ranking's draws (default: from the inputs)"),
    ] = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Compute the scores, ranks and score sheets from the ledger (a preliminary result)."""
    with Runtime(settings_for(as_of), campaign) as rt:
        closes_at = commands.close_of(rt, closes)
        done = commands.compute(rt, label, closes_at=closes_at, seed=seed, actor=by)
        bundle = rt.bundle
        written = commands.write_outputs(rt, done.row.label)
    row = done.row
    same_en, same_zh = ("", "") if done.new else (" (nothing changed)", "（输入未变，未重新记录）")
    said = pick(f"version {row.version}{same_en}", f"第 {row.version} 版{same_zh}")
    out.print(f"{escape(row.label)}: {said}", soft_wrap=True)
    out.print(ranking_table(done.evaluation, bundle))
    _print_outputs(written)


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


@evaluate.command(name="adjustments")
@reports_errors
def adjustments_command(
    campaign: CampaignFile,
    file: Annotated[Path, typer.Argument(help="the .xlsx of bonuses and penalties, one a row")],
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Import bonuses and penalties (加分/扣分): unit, points, reason, evidence, one a row."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.import_adjustments(rt, file, by)
    out.print(pick(f"{done.name}: {done.rows} rows, {done.new} recorded now",
                   f"{done.name}：共 {done.rows} 行，本次记录 {done.new} 行"))  # fmt: skip


@evaluate.command(name="appeal")
@reports_errors
def appeal_command(
    campaign: CampaignFile,
    unit: Annotated[str, typer.Argument(help="the appealing unit's id")],
    line: Annotated[str, typer.Option("--line", help="the disputed line, as its sheet names it")],
    statement: Annotated[str, typer.Option("--statement", help="the unit's reasons")],
    label: Label = None,
    as_of: AsOf = None,
) -> None:
    """Record a unit's appeal (复核申请) against one line of its preliminary score sheet."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.appeal(rt, unit, line, statement, label)
    out.print(pick(f"appeal A{done.appeal_id} recorded" if done.new else
                   f"appeal A{done.appeal_id} was recorded before",
                   f"复核申请 A{done.appeal_id} 已登记" if done.new else
                   f"复核申请 A{done.appeal_id} 此前已登记"))  # fmt: skip


@evaluate.command(name="decide")
@reports_errors
def decide_command(
    campaign: CampaignFile,
    appeal: Annotated[str, typer.Argument(help="the appeal's number, e.g. A3")],
    reason: Annotated[str, typer.Option("--reason", help="why (told to the unit, kept)")],
    uphold: Annotated[
        str | None,
        typer.Option(
            "--uphold",
            help="uphold it, correcting SOURCE's raw figure: SOURCE=VALUE (e.g. timeliness=1)",
        ),
    ] = None,
    label: Label = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Decide an appeal: --uphold SOURCE=VALUE corrects and recomputes; without it, rejected."""
    number = _appeal_number(appeal)
    correction = None if uphold is None else _correction(uphold)
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.decide(rt, number, reason, correction=correction, label=label, actor=by)
    if done.version is not None:
        out.print(pick(
            f"A{done.appeal_id} upheld: version {done.version} computed",
            f"A{done.appeal_id} 复核成立：已重新计算为第 {done.version} 版",
        ))  # fmt: skip
    else:
        out.print(pick(f"A{done.appeal_id}: {done.state}",
                       f"A{done.appeal_id}：{STATE_ZH.get(done.state, done.state)}"))  # fmt: skip
    if done.told:
        out.print(pick("the unit was told the decision by mail", "处理结果已邮件告知该单位"))


@evaluate.command(name="freeze")
@reports_errors
def freeze_command(
    campaign: CampaignFile, label: Label = None, by: By = "coordinator", as_of: AsOf = None
) -> None:
    """Fix the result (定稿): refused while an appeal is open; never computed again."""
    with Runtime(settings_for(as_of), campaign) as rt:
        version, now = commands.freeze(rt, label, by)
        written = commands.write_outputs(rt, label)
    out.print(pick(f"version {version} frozen" if now else f"version {version} was frozen before",
                   f"第 {version} 版已定稿" if now else f"第 {version} 版此前已定稿"))  # fmt: skip
    _print_outputs(written)


@evaluate.command(name="publish")
@reports_errors
def publish_command(campaign: CampaignFile, label: Label = None, as_of: AsOf = None) -> None:
    """Mail each unit its result, once: preliminary, its score sheet and appeal form (the
    appeal window opens); frozen, its final sheet and the bulletin (also to the distribution)."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.publish(rt, label)
        zone = rt.bundle.campaign.zone
    if done.final:
        out.print(pick(f"{done.label}: final result (version {done.version}) sent to "
                       f"{done.sent} units now, {done.units} in all; the bulletin to the "
                       "distribution list",
                       f"考核“{done.label}”：最终结果（第 {done.version} 版）本次发给 {done.sent} "
                       f"个单位，共 {done.units} 个；考核通报已发送分送名单"),
                  soft_wrap=True)  # fmt: skip
    else:
        closes = done.appeals_close
        assert closes is not None  # a preliminary result is published with its window
        out.print(pick(f"{done.label}: version {done.version} sent to {done.sent} units now, "
                       f"{done.units} addressed; appeals close {format_due(closes, zone, 'en')}",
                       f"考核“{done.label}”：第 {done.version} 版初步结果本次发给 {done.sent} "
                       f"个单位，应发 {done.units} 个；复核申请截止"
                       f"{format_due(closes, zone, 'zh-CN')}"), soft_wrap=True)  # fmt: skip
    if done.unsent:
        out.print(pick(f"{len(done.unsent)} not sent yet: run the command again to retry",
                       f"尚有 {len(done.unsent)} 封未发出：请再次运行本命令重试"))  # fmt: skip


@evaluate.command(name="verify")
@reports_errors
def verify_command(campaign: CampaignFile, label: Label = None, as_of: AsOf = None) -> None:
    """Recompute the latest version from the ledger: its inputs and result hashes (exit 1 if
    either differs)."""
    with Runtime(settings_for(as_of), campaign) as rt:
        verdict = commands.verify(rt, label)
    for ok, en, zh in ((verdict.inputs_match, "inputs", "输入"),
                       (verdict.result_match, "result", "结果")):  # fmt: skip
        out.print(pick(f"{en}: {'matches' if ok else 'DIFFERS'}",
                       f"{zh}：{'一致' if ok else '不一致'}"))  # fmt: skip
    if not verdict.matches:
        raise typer.Exit(1)


@evaluate.command(name="status")
@reports_errors
def status_command(campaign: CampaignFile, label: Label = None, as_of: AsOf = None) -> None:
    """List the evaluation's versions (state, close, seed, hash) and its appeals."""
    with Runtime(settings_for(as_of), campaign) as rt:
        found = commands.status(rt, label)
        zone = rt.bundle.campaign.zone
    if not found.versions:
        out.print(pick(f"evaluation {found.label}: not computed yet (`duban evaluate compute`)",
                       f"考核“{found.label}”尚未计算（`duban evaluate compute`）"))  # fmt: skip
        return
    table = house_table(pick(f"Evaluation {found.label}", f"考核“{found.label}”"))
    for heading in (
        pick("version", "版本"),
        pick("state", "状态"),
        pick("computed", "计算时间"),
        pick("close", "截止"),
        pick("seed", "种子"),
        pick("result", "结果哈希"),
    ):
        table.add_column(heading)  # fmt: skip
    for version, state, at, closes, seed, result in found.versions:
        table.add_row(
            str(version),
            pick(state, STATE_ZH.get(state, state)),
            f"{at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{closes.astimezone(zone):%Y-%m-%d %H:%M}",
            escape(seed),
            result[:16],
        )
    out.print(table)
    if found.appeals:
        appeals = house_table(pick("Appeals", "复核申请"))
        for heading in (
            "№",
            pick("unit", "单位"),
            pick("line", "争议事项"),
            pick("state", "状态"),
            pick("decision", "处理意见"),
        ):
            appeals.add_column(heading)  # fmt: skip
        for number, unit, line, state, decision in found.appeals:
            appeals.add_row(
                f"A{number}",
                unit,
                escape(line),
                pick(state, STATE_ZH.get(state, state)),
                escape(decision or ""),
            )
        out.print(appeals)


def _print_outputs(written: commands.Outputs) -> None:
    for path in (
        written.ranking,
        written.accountability,
        written.comments,
        written.docx,
        written.html,
    ):
        out.print(escape(str(path)), soft_wrap=True)


def ranking_table(evaluation: Evaluation, bundle: CampaignBundle) -> object:
    table = house_table(pick("Ranking", "考核排名"))
    for heading in (pick("group", "组别"), pick("rank", "名次"), pick("unit", "单位"),
                    pick("total", "总分"), pick("note", "备注")):  # fmt: skip
        table.add_column(heading)
    titles = {g.id: g.title for g in bundle.campaign.scoring.ranking_groups}
    for p in evaluation.placings:
        unit = bundle.units_by_id.get(p.unit_id)
        note = pick("flagged", "问责") if p.flagged else pick("exempt", "免于问责") if p.exempt \
            else pick("commended", "红榜") if p.commended else ""  # fmt: skip
        table.add_row(escape(titles.get(p.group_id, p.group_id)), str(p.rank),
                      escape(unit.name if unit else p.unit_id), str(p.total), note)  # fmt: skip
    return table


def _appeal_number(text: str) -> int:
    try:
        return int(text.strip().upper().removeprefix("A"))
    except ValueError:
        raise DubanError(
            f"not an appeal number: {text!r}", hint="appeals are numbered A1, A2 …",
            zh=f"不是复核申请编号：{text!r}", zh_hint="编号形如 A1、A2",
        ) from None  # fmt: skip


def _correction(text: str) -> tuple[str, Decimal]:
    return correction_of(text, "--uphold")
