"""``duban rectify``: the coordinator's side of the rectification ledger (整改台账).

``list`` and ``show`` read it, ``ledger`` writes it as a workbook, ``import`` adds the
problems handed down in a spreadsheet (督查交办); ``close`` (销号), ``return`` (退回),
``extend`` (延期) and ``cancel`` (作废) verify an item, each one event naming ``--by`` at the
runtime's clock (``DUBAN_NOW`` or ``--as-of``), through ``selfcheck.commands``. Each ends a
``DubanError`` as every command does (``reports_errors``): one ``error:`` line, a ``→`` hint,
exit 1.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.language import pick
from duban.cli.tables import house_table
from duban.errors import DubanError
from duban.model.loader import CampaignBundle
from duban.runtime import Runtime
from duban.selfcheck import commands
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import Entry
from duban.selfcheck.states import (
    ACTION_EN,
    ACTION_ZH,
    CREATED,
    EVENT_KINDS,
    STATE_EN,
    STATE_ZH,
    Action,
    Move,
    State,
)
from duban.selfcheck.verdicts import VerdictsRecorded

rectify = typer.Typer(
    help="The rectification ledger (整改台账): list, show, verify, import and write items.",
    no_args_is_help=True,
)
out = Console()

Code = Annotated[str, typer.Argument(help="the item's code, e.g. ZG-B03-007")]
By = Annotated[str, typer.Option(help="who verifies (kept in the audit trail)")]
Reason = Annotated[str, typer.Option(help="why (kept in the audit trail)")]
OutPath = Annotated[
    Path | None,
    typer.Option("--out", help="a file or folder (default: under DUBAN_HOME/out/CAMPAIGN/)"),
]


# --------------------------------------------------------------------------- reading


@rectify.command(name="list")
@reports_errors
def list_command(
    campaign: CampaignFile,
    unit: Annotated[str | None, typer.Option("--unit", help="only this unit's items")] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            help="only items in this state: open, in_progress, claimed, closed, cancelled "
            "(repeat for several)",
        ),
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue items")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    as_of: AsOf = None,
) -> None:
    """List the items (整改台账): code, unit, category, finding, deadline, state, overdue."""
    states = None if not state else commands.parse_states(state)
    with Runtime(settings_for(as_of), campaign) as rt:
        found = commands.listing(rt, unit_id=unit, states=states, overdue_only=overdue)
        bundle = rt.bundle
    if as_json:
        zone = bundle.campaign.zone
        rows = [_as_dict(i, bundle, zone, i.code in found.overdue) for i in found.items]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    out.print(_list_table(found, bundle))


@rectify.command(name="show")
@reports_errors
def show_command(campaign: CampaignFile, code: Code, as_of: AsOf = None) -> None:
    """Show one item: what was found, where it stands, and its whole history."""
    with Runtime(settings_for(as_of), campaign) as rt:
        shown = commands.show(rt, code)
        bundle = rt.bundle
    zone = bundle.campaign.zone
    out.print(_item_table(shown.item, bundle, zone, shown.overdue))
    out.print(_history_table(shown.item.code, shown.history, zone))


# --------------------------------------------------------------------------- import, workbook


@rectify.command(name="import")
@reports_errors
def import_command(
    campaign: CampaignFile,
    file: Annotated[Path, typer.Argument(help="the .xlsx of problems to hand down, one a row")],
    source: Annotated[
        str, typer.Option(help="assigned (交办) or inspection (督查发现)")
    ] = "assigned",
    by: Annotated[str, typer.Option(help="who imports (kept in the audit trail)")] = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Import problems handed down to units (督查交办) from a spreadsheet, as items."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.import_file(rt, file, source=source, actor=by)  # type: ignore[arg-type]
    name = escape(done.file)
    parts = []
    if done.new:
        n, more = len(done.new), " …" if len(done.new) > 5 else ""
        parts.append(pick(f"{n} items recorded ({', '.join(done.new[:5])}{more})",
                          f"新登记 {n} 项（{'、'.join(done.new[:5])}{more}）"))  # fmt: skip
    else:
        parts.append(pick("nothing new recorded", "没有新登记的事项"))
    if done.known:
        parts.append(pick(f"{done.known} rows were already items of their unit",
                          f"{done.known} 行已是该单位的整改事项"))  # fmt: skip
    if done.repeated:
        parts.append(pick(f"{done.repeated} rows repeat an earlier row of the file",
                          f"{done.repeated} 行与文件中前面的行重复"))  # fmt: skip
    out.print(pick(f"{name} ({done.rows} rows): ", f"{name}（{done.rows} 行）：")
              + pick("; ", "；").join(parts), soft_wrap=True)  # fmt: skip


@rectify.command(name="ledger")
@reports_errors
def ledger_command(
    campaign: CampaignFile,
    out_path: OutPath = None,
    as_of: AsOf = None,
) -> None:
    """Write the 整改台账 workbook: every item, a sheet per tag, the overdue ones, the rates."""
    with Runtime(settings_for(as_of), campaign) as rt:
        written = commands.write_ledger(rt, out_path)
    total = written.stats.total
    out.print(escape(str(written.path)), soft_wrap=True)
    out.print(pick(
        f"{written.stats.items} items as of {written.day}: {total.found} found (cancelled "
        f"{total.cancelled} not counted), {total.closed} closed, {total.open} open, "
        f"{total.overdue} overdue; closure rate {_rate(total.closure_rate)}, on time "
        f"{_rate(total.on_time_rate)}",
        f"截至 {written.day} 共 {written.stats.items} 项：问题 {total.found} 项（已作废 "
        f"{total.cancelled} 项不计），已销号 {total.closed} 项，未销号 {total.open} 项，逾期 "
        f"{total.overdue} 项；整改完成率 {_rate(total.closure_rate)}，按期整改率 "
        f"{_rate(total.on_time_rate)}",
    ), soft_wrap=True)  # fmt: skip


@rectify.command(name="sheet")
@reports_errors
def sheet_command(
    campaign: CampaignFile,
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="only this unit's items (repeat for several)")
    ] = None,
    out_path: OutPath = None,
    as_of: AsOf = None,
) -> None:
    """Write the verification sheet (核验销号表): every claimed item, a verdict to fill each."""
    with Runtime(settings_for(as_of), campaign) as rt:
        written = commands.write_verification(rt, unit or (), out_path)
    out.print(escape(str(written.path)), soft_wrap=True)
    signed = "" if written.signed else pick(
        "; not signed (DUBAN_SECRET is not set): return it with `duban rectify verdicts`, "
        "not by email",
        "；未签名（没有设置 DUBAN_SECRET）：请用 `duban rectify verdicts` 交回，不能通过邮件交回",
    )  # fmt: skip
    out.print(pick(f"{written.rows} items awaiting verification as of {written.day}{signed}",
                   f"截至 {written.day} 待核验销号 {written.rows} 项{signed}"),
              soft_wrap=True)  # fmt: skip


@rectify.command(name="verdicts")
@reports_errors
def verdicts_command(
    campaign: CampaignFile,
    file: Annotated[Path, typer.Argument(help="the filled verification sheet (.xlsx)")],
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Record the verdicts of a filled verification sheet: close or return each item."""
    with Runtime(settings_for(as_of), campaign) as rt:
        done = commands.import_verdicts(rt, file, actor=by)
    out.print(verdicts_summary(done), soft_wrap=True)


def verdicts_summary(done: VerdictsRecorded) -> str:
    """One line: what the file closed and returned, what it had before, what it left blank."""
    parts = []
    for codes, en, zh in ((done.closed, "closed", "销号"), (done.returned, "returned", "退回")):
        if codes:
            n, more = len(codes), " …" if len(codes) > 5 else ""
            parts.append(pick(f"{n} {en} ({', '.join(codes[:5])}{more})",
                              f"{zh} {n} 项（{'、'.join(codes[:5])}{more}）"))  # fmt: skip
    if not done.recorded:
        parts.append(pick("nothing recorded", "没有记录任何核验结论"))
    if done.already:
        n = len(done.already)
        parts.append(pick(f"{n} of this file's verdicts were recorded before",
                          f"{n} 项结论此前已按本文件记录"))  # fmt: skip
    if done.blank:
        rows = "row" if done.blank == 1 else "rows"
        parts.append(pick(f"{done.blank} {rows} left without a verdict",
                          f"{done.blank} 行未填核验结论"))  # fmt: skip
    name = escape(done.file)
    return pick(f"{name}: ", f"{name}：") + pick("; ", "；").join(parts)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


# --------------------------------------------------------------------------- moving


@rectify.command(name="close")
@reports_errors
def close_command(
    campaign: CampaignFile,
    code: Code,
    reviewer: Annotated[
        str | None, typer.Option(help="a second person who verified it too (复核人)")
    ] = None,
    note: Annotated[str | None, typer.Option(help="the verification note (核验意见)")] = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Close a claimed item (销号) once its completion is verified."""
    _move(campaign, code, Move(Action.CLOSE, by, reviewer=reviewer, note=note), as_of)


@rectify.command(name="return")
@reports_errors
def return_command(
    campaign: CampaignFile, code: Code, reason: Reason, by: By = "coordinator", as_of: AsOf = None
) -> None:
    """Return a claimed item (退回): not done yet, back to in progress, with the reason."""
    _move(campaign, code, Move(Action.RETURN, by, reason=reason), as_of)


@rectify.command(name="extend")
@reports_errors
def extend_command(
    campaign: CampaignFile,
    code: Code,
    to: Annotated[str, typer.Option("--to", help="the new deadline, e.g. 2026-10-31")],
    reason: Reason,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Extend an open item's deadline (延期), with the reason."""
    _move(campaign, code, Move(Action.EXTEND, by, reason=reason, deadline=_day(to)), as_of)


@rectify.command(name="cancel")
@reports_errors
def cancel_command(
    campaign: CampaignFile, code: Code, reason: Reason, by: By = "coordinator", as_of: AsOf = None
) -> None:
    """Cancel an item (作废) that was never a problem to fix, with the reason; it stays listed."""
    _move(campaign, code, Move(Action.CANCEL, by, reason=reason), as_of)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DubanError(f"--to: {text!r} is not a date",
                         hint="write the new deadline as 2026-10-31",
                         zh=f"--to：{text!r} 不是有效日期",
                         zh_hint="新的整改时限请写成 2026-10-31 这样") from None  # fmt: skip


def _move(campaign: Path, code: str, move: Move, as_of: str | None) -> None:
    with Runtime(settings_for(as_of), campaign) as rt:
        verdict = commands.verify(rt, code, move)
        zone = rt.bundle.campaign.zone
    item, entry = verdict.item, verdict.entry
    done = pick(ACTION_EN[move.action], ACTION_ZH[move.action])
    state = _state(item.state)
    when = _minute(entry.at, zone)
    if verdict.already:
        out.print(pick(
            f"{item.code}: already {done} by {escape(entry.actor)} on {when}; nothing changed "
            f"(now {state})",
            f"{item.code}：早已{done}（{escape(entry.actor)}，{when}），没有变动（当前{state}）",
        ), soft_wrap=True)  # fmt: skip
        return
    said = _said(move)
    out.print(pick(
        f"{item.code}: {done} by {escape(entry.actor)} on {when}, now {state}"
        + (f" ({escape(said)})" if said else ""),
        f"{item.code}：已{done}（{escape(entry.actor)}，{when}），当前{state}"
        + (f"；{escape(said)}" if said else ""),
    ), soft_wrap=True)  # fmt: skip


def _said(move: Move) -> str:
    parts = []
    if move.deadline is not None:
        parts.append(pick(f"new deadline {move.deadline}", f"新时限 {move.deadline}"))
    if move.reviewer:
        parts.append(pick(f"second reviewer {move.reviewer}", f"复核人 {move.reviewer}"))
    for text in (move.reason, move.note):
        if text:
            parts.append(text)
    return pick("; ", "；").join(parts)


# --------------------------------------------------------------------------- rendering


def _state(state: str) -> str:
    known = State(state)
    return pick(STATE_EN[known], STATE_ZH[known])


def _minute(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _deadline(item: Item) -> str:
    if item.long_term or item.deadline is None:
        return pick("long-term", "长期坚持")
    return item.deadline.isoformat()


def _unit_name(bundle: CampaignBundle, unit_id: str) -> str:
    unit = bundle.units_by_id.get(unit_id)
    return unit.name if unit is not None else unit_id


def _list_table(found: commands.Listing, bundle: CampaignBundle) -> Table:
    late = sum(1 for i in found.items if i.code in found.overdue)
    table = house_table(
        pick(f"rectification items: {len(found.items)}, overdue {late} (as of {found.day})",
             f"整改台账：{len(found.items)} 项，逾期 {late} 项（截至 {found.day}）"),
        caption=None if found.items else pick("no item", "没有整改事项"),
    )  # fmt: skip
    table.add_column(pick("code", "编号"), no_wrap=True)
    table.add_column(pick("unit", "单位"), overflow="fold", max_width=12)
    table.add_column(pick("category", "类别"), overflow="fold", max_width=8)
    table.add_column(pick("finding", "问题描述"), overflow="fold", ratio=1, min_width=12)
    table.add_column(pick("deadline", "整改时限"), no_wrap=True)
    table.add_column(pick("state", "状态"), overflow="fold", max_width=10)
    table.add_column(pick("late", "逾期"), no_wrap=True)
    for item in found.items:
        table.add_row(
            item.code, escape(_unit_name(bundle, item.unit_id)), escape(item.category or "—"),
            escape(item.finding), _deadline(item), _state(item.state),
            pick("yes", "是") if item.code in found.overdue else "",
        )  # fmt: skip
    return table


_SOURCE_ZH = {"self-check": "自查", "inspection": "督查发现", "assigned": "交办"}


def _item_table(item: Item, bundle: CampaignBundle, zone: ZoneInfo, overdue: bool) -> Table:
    table = house_table(f"{item.code}", header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold", ratio=1)
    deadline = _deadline(item)
    if item.first_deadline is not None and item.first_deadline != item.deadline:
        deadline += pick(f" (first {item.first_deadline})", f"（原定 {item.first_deadline}）")
    state = _state(item.state) + (pick(", overdue", "，已逾期") if overdue else "")
    rows: list[tuple[str, str | None]] = [
        (pick("unit", "责任单位"), f"{item.unit_id} {_unit_name(bundle, item.unit_id)}"),
        (pick("source", "来源"), pick(item.source, _SOURCE_ZH.get(item.source, item.source))),
        (pick("category", "问题类别"), item.category),
        (pick("finding", "问题描述"), item.finding),
        (pick("cause", "原因剖析"), item.cause),
        (pick("measure", "整改措施"), item.measure),
        (pick("owner", "责任人"), item.owner),
        (pick("partners", "配合单位"), "、".join(item.partners) or None),
        (pick("deadline", "整改时限"), deadline),
        (pick("state", "状态"), state),
        (pick("progress", "整改进展"), item.progress),
        (pick("evidence", "完成情况"), item.evidence),
        (pick("files", "佐证材料"), ", ".join(item.evidence_files) or None),
        (pick("completed on", "完成日期"), _text(item.completed_on)),
        (pick("closed", "销号时间"), _when(item.closed_at, zone)),
        (pick("closed by", "销号人"), item.closed_by),
        (pick("second reviewer", "复核人"), item.reviewed_by),
        (pick("last reason", "退回/作废理由"), item.last_reason),
        (pick("recorded", "登记时间"), f"{_minute(item.created_at, zone)} ({item.created_by})"),
    ]
    for label, value in rows:
        if value is not None:
            table.add_row(label, escape(value))
    return table


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _when(at: datetime | None, zone: ZoneInfo) -> str | None:
    return None if at is None else _minute(at, zone)


_ACTIONS = {kind: action for action, kind in EVENT_KINDS.items()}


def _history_table(code: str, history: list[Entry], zone: ZoneInfo) -> Table:
    table = house_table(pick(f"history of {code}: {len(history)} events",
                        f"{code} 的记录：{len(history)} 条"))  # fmt: skip
    table.add_column(pick("time", "时间"), min_width=10)
    table.add_column(pick("by", "经办人"), overflow="fold", max_width=14)
    table.add_column(pick("action", "操作"), overflow="fold", max_width=12)
    table.add_column(pick("reason / details", "理由及说明"), overflow="fold", ratio=1)
    for entry in history:
        action = _ACTIONS.get(entry.kind)
        if entry.kind == CREATED:
            what = pick("recorded", "登记")
        elif action is not None:
            what = pick(ACTION_EN[action], ACTION_ZH[action])
        else:
            what = entry.kind
        table.add_row(
            _minute(entry.at, zone), escape(entry.actor), what, escape(_details(entry.payload))
        )
    return table


def _details(payload: dict[str, Any]) -> str:
    """What an event says beyond its action: reason, note, evidence, deadlines, reviewer."""
    parts = []
    if payload.get("deadline") and payload.get("action") == Action.EXTEND:
        before = payload.get("previous_deadline") or pick("none", "无")
        parts.append(f"{before} → {payload['deadline']}")
    elif "finding" in payload:  # a creation
        deadline = payload.get("deadline") or pick("long-term", "长期坚持")
        parts.append(pick(f"deadline {deadline}", f"整改时限 {deadline}"))
    for key in ("reason", "note", "evidence"):
        if payload.get(key):
            parts.append(str(payload[key]))
    if payload.get("completed_on"):
        parts.append(pick(f"completed {payload['completed_on']}",
                          f"完成于 {payload['completed_on']}"))  # fmt: skip
    if payload.get("files"):
        parts.append(", ".join(payload["files"]))
    if payload.get("reviewer"):
        parts.append(pick(f"second reviewer {payload['reviewer']}",
                          f"复核人 {payload['reviewer']}"))  # fmt: skip
    return pick("; ", "；").join(parts) or "—"


def _as_dict(item: Item, bundle: CampaignBundle, zone: ZoneInfo, overdue: bool) -> dict[str, Any]:
    def moment(at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(zone).isoformat(timespec="minutes")

    def day(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "code": item.code, "unit": item.unit_id, "unit_name": _unit_name(bundle, item.unit_id),
        "source": item.source, "category": item.category, "finding": item.finding,
        "cause": item.cause, "measure": item.measure, "owner": item.owner,
        "partners": list(item.partners), "deadline": day(item.deadline),
        "first_deadline": day(item.first_deadline), "long_term": item.long_term,
        "state": item.state, "overdue": overdue, "progress": item.progress,
        "evidence": item.evidence, "completed_on": day(item.completed_on),
        "created_at": moment(item.created_at), "claimed_at": moment(item.claimed_at),
        "closed_at": moment(item.closed_at), "closed_by": item.closed_by,
        "reviewed_by": item.reviewed_by, "last_reason": item.last_reason,
    }  # fmt: skip
