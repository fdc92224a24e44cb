"""What the CLI shows: summaries of a campaign, a registration and the status of every duty.

Built from the domain and the ledger as plain data (``status_report`` is what ``--json``
prints), with a rich rendering beside it, in the language of the command (``pick``). Tables
fit 80 columns: headings are short, numbers never wrap, unit names and titles do.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.table import Table

from duban.cli.language import pick
from duban.ledger.store import RegisterReport
from duban.model.loader import CampaignBundle


def house_table(title: str, *, caption: str | None = None, header: bool = True) -> Table:
    """The house style: a rule under the heading, no side borders (80 columns are few)."""
    return Table(
        title=title, caption=caption, show_header=header, box=box.SIMPLE_HEAD,
        show_edge=False, padding=(0, 0), pad_edge=False,
        title_justify="left", caption_justify="left",
    )  # fmt: skip


def validation_summary(bundle: CampaignBundle) -> Table:
    campaign = bundle.campaign
    per_deliverable = Counter(spec.deliverable_id for spec in bundle.instances())
    table = house_table(
        pick(f"✓ {campaign.title} ({campaign.id}) is valid: {len(bundle.units)} units",
             f"✓ {campaign.title}（{campaign.id}）检查通过：{len(bundle.units)} 个单位")
    )  # fmt: skip
    for name in (pick("deliverable", "报送事项"), pick("phase", "阶段"), pick("form", "表单")):
        table.add_column(name)
    table.add_column(pick("duties", "任务数"), justify="right", no_wrap=True)
    table.add_column(pick("first due", "首个截止日"), no_wrap=True)
    for d in campaign.deliverables:
        specs = [s for s in bundle.instances() if s.deliverable_id == d.id]
        first = min((s.due_date for s in specs), default=None)
        table.add_row(
            f"{d.id} {d.title}", d.phase, d.form, str(per_deliverable[d.id]), str(first or "—")
        )
    return table


_REGISTER_ZH = {
    "created": "已登记",
    "updated": "已更新",
    "units_added": "新增单位",
    "units_updated": "更新单位",
    "units_deactivated": "停用单位",
    "instances_added": "新增任务",
    "instances_updated": "更新任务",
    "instances_withdrawn": "撤销任务",
}


def register_summary(bundle: CampaignBundle, report: RegisterReport) -> str:
    cid = bundle.campaign.id
    if not report.changed:
        return pick(f"{cid}: ledger already up to date, nothing changed",
                    f"{cid}：台账已是最新，没有变动")  # fmt: skip
    changed = sorted((k, v) for k, v in report.counts.items() if v)
    english = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in changed)
    chinese = "，".join(f"{_REGISTER_ZH.get(k, k)} {v}" for k, v in changed)
    return pick(
        f"{cid}: campaign {report.campaign}; {english or 'no unit changes'}",
        f"{cid}：活动{_REGISTER_ZH.get(report.campaign, report.campaign)}；"
        + (chinese or "单位无变动"),
    )


def status_columns() -> dict[str, str]:
    """Status headings: short enough that eleven columns fit 80 characters."""
    return {
        "deliverable": pick("deliverable", "报送事项"),
        "period": pick("period", "期次"),
        "expected": pick("owed", "应报"),
        "received": pick("in", "已收"),
        "on_time": pick("on time", "按时"),
        "late": pick("late", "迟报"),
        "missing": pick("missing", "未报"),
        "rejected": pick("rejected", "退回"),
        "pending": pick("not due", "未到期"),
        "completeness": pick("done", "报送率"),
        "timeliness": pick("timely", "及时率"),
    }


STATES_ZH = {
    "not-yet-due": "未到期",
    "extended": "已延期",
    "due-soon": "临近截止",
    "due-today": "今日截止",
    "overdue": "逾期未报",
    "on-time": "按时报送",
    "late": "逾期报送",
    "rejected": "已退回",
    "exempted": "免报",
}


def state_name(state: str) -> str:
    return pick(state, STATES_ZH.get(state, state))


def local_minute(moment: str, zone: str) -> str:
    """An ISO moment as the office reads it: its own zone, to the minute."""
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def status_tables(result: dict[str, Any]) -> list[Table]:
    tables = []
    columns = status_columns()
    for campaign in result["campaigns"]:
        held = campaign["held"]
        when = local_minute(result["as_of"], campaign["timezone"])
        table = house_table(
            pick(f"{campaign['title']} ({campaign['id']}) — as of {when}",
                 f"{campaign['title']}（{campaign['id']}）截至 {when}"),
            caption=pick(
                f"held for review: {held} messages and files"
                + (" — `duban review CAMPAIGN.yaml` lists them" if held else ""),
                f"待核：{held} 封邮件和文件"
                + ("，`duban review 活动.yaml` 可列出" if held else ""),
            ),
        )  # fmt: skip
        _status_columns(table, columns, first="deliverable", rows=campaign["deliverables"])
        for row in campaign["deliverables"]:
            table.add_row(*(_cell(row[name]) for name in columns))  # ids: titles do not fit
        tables.append(table)
        if "tags" in campaign:
            tables.append(_tag_table(campaign, columns))
        if "units" in campaign:
            tables.append(_unit_table(campaign))
        if "rectification" in campaign:
            tables.append(rectification_table(campaign))
        for chain in campaign.get("key_tasks", []):
            tables.append(key_task_table(campaign, chain))
    return tables


def key_task_table(campaign: dict[str, Any], chain: dict[str, Any]) -> Table:
    """重点工作推进情况 (``status``'s ``key_tasks``): per key task of a chain, its lead and
    partners with their state and day (received, else due), and the units late; those
    holding the task up are starred."""
    table = house_table(
        pick(f"{campaign['id']}: key tasks — {chain['deliverable']} {chain['period']}",
             f"{campaign['id']}：重点工作推进情况（{chain['deliverable']} {chain['period']}）"),
        caption=pick("late: reported late, or not at all past the due day; "
                     "* holds the task up",
                     "逾期单位：逾期报送或逾期未报的单位；标 * 的单位正卡住该项工作"),
    )  # fmt: skip
    table.add_column(pick("key task", "重点工作"), overflow="fold", ratio=2)
    table.add_column(pick("lead", "牵头单位"), overflow="fold", ratio=1)
    table.add_column(pick("partners", "配合单位"), overflow="fold", ratio=2)
    table.add_column(pick("late", "逾期单位"), overflow="fold", ratio=1)
    for task in chain["tasks"]:
        holding = set(task["holding"])
        lead = [task["lead"]] if task["lead"] else []
        names = {u["unit"]: u["name"] for u in [*task["partners"], *lead]}
        late = [names[u] + ("*" if u in holding else "") for u in task["late"]]
        table.add_row(
            task["title"],
            _standing(task["lead"], campaign["timezone"]) if task["lead"] else "—",
            "\n".join(_standing(p, campaign["timezone"]) for p in task["partners"]) or "—",
            pick(", ", "、").join(late) or "—",
            end_section=True,
        )
    return table


def _standing(unit: dict[str, Any], zone: str) -> str:
    """A unit in a chain: its name, state, and the day it reported (else its due day)."""
    if unit["received"]:
        day = local_minute(unit["received"], zone)[5:10]
    else:
        day = pick("due ", "截止") + unit["due"][5:]
    return f"{unit['name']} {state_name(unit['state'])} {day}"


def rectification_table(campaign: dict[str, Any]) -> Table:
    """The closure rates of the campaign's rectification items (``status``'s
    ``rectification``): per roster tag, per unit with items, and in all."""
    rates = campaign["rectification"]
    table = house_table(
        pick(f"{campaign['id']}: rectification items as of {rates['day']}",
             f"{campaign['id']}：整改事项（截至 {rates['day']}）"),
        caption=pick("cancelled items are not counted", "已作废的事项不计"),
    )  # fmt: skip
    table.add_column(pick("tag / unit", "标签 / 单位"), overflow="fold", ratio=1)
    for name in RECTIFICATION_COLUMNS:
        table.add_column(rectification_columns()[name], justify="right", no_wrap=True)
    sections = [
        [(row["tag"], row) for row in rates["by_tag"]],
        [(f"{row['unit']} {row['name']}".strip(), row) for row in rates["by_unit"]],
        [(pick("total", "合计"), rates["total"])],
    ]
    for section in (s for s in sections if s):
        for number, (label, row) in enumerate(section, start=1):
            cells = (_cell(row[name]) for name in RECTIFICATION_COLUMNS)
            table.add_row(label, *cells, end_section=number == len(section))
    return table


RECTIFICATION_COLUMNS = ("found", "closed", "overdue", "closure_rate", "on_time_rate")


def rectification_columns() -> dict[str, str]:
    return {
        "found": pick("found", "问题数"),
        "closed": pick("closed", "已销号"),
        "overdue": pick("overdue", "逾期"),
        "closure_rate": pick("closure", "整改完成率"),
        "on_time_rate": pick("on time", "按期整改率"),
    }


def _status_columns(
    table: Table, columns: dict[str, str], *, first: str, rows: list[dict[str, Any]]
) -> None:
    ids = max((len(str(row[first])) for row in rows), default=8)
    for name, header in columns.items():
        if name == first:
            table.add_column(header, overflow="fold", min_width=min(ids, 16))
        elif name in ("period", "tag"):
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right", no_wrap=True)


def _tag_table(campaign: dict[str, Any], columns: dict[str, str]) -> Table:
    table = house_table(pick(f"{campaign['id']}: per tag", f"{campaign['id']}：按单位标签"))
    names = {**columns, "period": pick("tag", "标签")}
    _status_columns(table, names, first="deliverable", rows=campaign["tags"])
    for row in campaign["tags"]:
        table.add_row(*(_cell(row["tag" if name == "period" else name]) for name in names))
    return table


def _unit_table(campaign: dict[str, Any]) -> Table:
    table = house_table(pick(f"{campaign['id']}: per unit", f"{campaign['id']}：逐单位"))
    table.add_column(pick("unit", "单位编号"), no_wrap=True)
    table.add_column(pick("name", "单位名称"), overflow="fold", ratio=1)
    table.add_column(pick("deliverable", "报送事项"), overflow="fold")
    table.add_column(pick("period", "期次"), no_wrap=True)
    table.add_column(pick("due", "截止日"), no_wrap=True)
    table.add_column(pick("state", "状态"), no_wrap=True)
    for row in campaign["units"]:
        table.add_row(row["unit"], row["name"], row["deliverable"], row["period"], row["due"],
                      state_name(row["state"]))  # fmt: skip
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0%}"
    return "—" if value is None else str(value)


def mobilize_summary(deliverable: str, result: dict[str, Any]) -> str:
    what = f"{deliverable} {result['period']}"
    if result["status"] != "sent":
        previewed = result["status"] == "previewed"
        verb = pick("previewed" if previewed else "held for approval",
                    "已预览" if previewed else "待核准")  # fmt: skip
        n, where = result["count"], result["outbox"]
        return pick(f"{what}: {n} notices {verb}; open them in {where}",
                    f"{what}：{n} 份通知{verb}；请在 {where} 查看")  # fmt: skip
    by_status = sorted(result["by_status"].items())
    return pick(
        f"{what}: {result['count']} units, {result['sent_now']} sent now; "
        + ", ".join(f"{k} {v}" for k, v in by_status),
        f"{what}：{result['count']} 个单位，本次发出 {result['sent_now']} 份；"
        + "，".join(f"{_SENT_ZH.get(k, k)} {v}" for k, v in by_status),
    )


_SENT_ZH = {"sent": "已发送", "partial": "部分送达", "refused": "被拒收", "failed": "发送失败",
            "pending": "待发送", "sending": "发送中", "previewed": "已预览"}  # fmt: skip
_OUTCOMES_ZH = {"accepted": "已接收", "rejected": "已退回", "held": "待核", "ignored": "已忽略",
                "duplicate": "重复件", "quarantined": "已隔离"}  # fmt: skip


def collect_summary(result: dict[str, Any]) -> str:
    outcomes = sorted(result["outcomes"].items())
    english = ", ".join(f"{k} {v}" for k, v in outcomes)
    chinese = "，".join(f"{_OUTCOMES_ZH.get(k, k)} {v}" for k, v in outcomes)
    return pick(
        f"received {result['received']}: {english or 'nothing new'}; "
        f"{result['answered']} answers sent",
        f"收到 {result['received']} 件：{chinese or '没有新来件'}；回复 {result['answered']} 封",
    )


def held_table(items: list[Any], zone: ZoneInfo) -> Table:
    """Held messages (M…) and files (F…): what ``duban review`` decides, oldest first."""
    table = house_table(pick(f"held for review: {len(items)}", f"待核：{len(items)} 项"))
    table.add_column(pick("id", "编号"), no_wrap=True)
    table.add_column(pick("received", "收到时间"), no_wrap=False, min_width=10)
    for name in (pick("sender", "寄件人"), pick("subject", "主题"), pick("file", "文件")):
        table.add_column(name, overflow="fold")
    table.add_column(pick("why", "原因"), overflow="fold", ratio=2)
    for item in items:
        row = item.as_dict(zone)
        table.add_row(
            row["id"], row["received"], row["sender"] or "?", row["subject"] or "",
            row["file"] or "", row["reason"],
        )  # fmt: skip
    return table


def chase_summary(result: dict[str, Any]) -> str:
    """What this run sent, by rung. "Nothing left to send" covers both no rung due and every rung
    due already sent, by an earlier run or by one running at the same moment: the ledger cannot
    tell a run that lost the race from one that found nothing, and neither sent anything."""
    if not result["office_open"]:
        return pick("office closed (a day off or outside office hours): nothing sent",
                    "非工作时间（休息日或下班时间）：未发送任何提醒")  # fmt: skip
    if "previewed" in result:
        return pick(f"{result['previewed']} messages previewed in {result['outbox']}",
                    f"{result['previewed']} 封邮件已预览，见 {result['outbox']}")  # fmt: skip
    rungs = sorted(result["sent_by_rung"].items())
    items = result.get("items_named", 0)
    copies = result.get("lead_copies", 0)
    return pick(
        "sent: " + (", ".join(f"{k} {v}" for k, v in rungs) or "nothing left to send")
        + (f" (naming {items} rectification items)" if items else "")
        + f"; escalations {result['escalations']}; bot posts {result['bot_posts']}"
        + (f"; leads' consolidated copies {copies}" if copies else ""),
        "已发送：" + ("，".join(f"{k} {v}" for k, v in rungs) or "没有待发的提醒")
        + (f"（含整改事项 {items} 项）" if items else "")
        + f"；升级督办 {result['escalations']}；群机器人消息 {result['bot_posts']}"
        + (f"；牵头单位汇总模板 {copies}" if copies else ""),
    )  # fmt: skip


def remind_summary(result: dict[str, Any]) -> str:
    what = f"{result['deliverable']} {result['period']} ({result['day']})"
    parts = []
    if result["sent_now"] or not result["already"]:
        parts.append(pick(f"{result['sent_now']} reminders sent",
                          f"发出提醒 {result['sent_now']} 份"))  # fmt: skip
    if result["already"]:
        n = result["already"]
        parts.append(pick(f"{n} units already reminded today: nothing sent again "
                          "(one reminder a unit a day)",
                          f"{n} 个单位今天已提醒过，不再重发（每单位每天一次）"))  # fmt: skip
    if result["settled"]:
        parts.append(pick(f"{result['settled']} submitted or exempted: nothing sent",
                          f"{result['settled']} 个单位已报送或免报，不发送"))  # fmt: skip
    if result["undelivered"]:
        n = len(result["undelivered"])
        parts.append(pick(f"{n} not delivered (`duban outbox --kind remind`)",
                          f"{n} 份未送达（见 `duban outbox --kind remind`）"))  # fmt: skip
    if not result["owed"] and not result["settled"]:
        parts = [pick("no unit chosen", "没有选中任何单位")]
    return f"{what}{pick(': ', '：')}" + pick("; ", "；").join(parts)


def compile_summary(result: dict[str, Any]) -> Table:
    r = result
    table = house_table(
        pick(f"{r['deliverable']} {r['period']}: expected {r['expected']}, received "
             f"{r['received']} (on time {r['on_time']}, late {r['late']}), missing "
             f"{r['missing']}, rejected {r['rejected']}",
             f"{r['deliverable']} {r['period']}：应报 {r['expected']}，已收 {r['received']}"
             f"（按时 {r['on_time']}，逾期 {r['late']}），未报 {r['missing']}，"
             f"退回 {r['rejected']}"),
        header=False,
    )  # fmt: skip
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row(pick("summary workbook", "汇总表"), r["workbook"])
    table.add_row(pick("bulletin (HTML)", "通报（HTML）"), r["html"])
    table.add_row(pick("bulletin (.docx)", "通报（.docx）"), r["docx"])
    table.add_row(pick("detail rows", "明细行数"), str(r["detail_rows"]))
    if r.get("issue"):
        table.add_row(
            pick("bulletin number", "通报期数"), pick(f"No. {r['issue']}", f"第{r['issue']}期")
        )
    if r.get("reused"):
        table.add_row(pick("files sent", "发送的文件"),
                      pick(f"as written at {r['reused']} (nothing has changed since)",
                           f"{r['reused']} 生成的文件（此后没有变化，未重新生成）"))  # fmt: skip
    if r["sent"] or r["posted"]:
        table.add_row(pick("sent / posted", "邮件 / 群消息"), f"{r['sent']} / {r['posted']}")
    return table


def outbox_table(rows: list[dict[str, Any]], zone: ZoneInfo) -> Table:
    table = house_table(pick(f"sent by duban: {len(rows)} most recent",
                        f"duban 发出的邮件：最近 {len(rows)} 封"))  # fmt: skip
    table.add_column(pick("sent", "发送时间"), min_width=10)
    table.add_column(pick("kind", "类别"), no_wrap=True)
    table.add_column(pick("to", "收件人"), overflow="fold")
    table.add_column(pick("subject", "主题"), overflow="fold", ratio=1)
    table.add_column(pick("status", "状态"), overflow="fold")
    for row in rows:
        sent = row["sent_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if row["sent_at"] else "—"
        status = pick(row["status"], _SENT_ZH.get(row["status"], row["status"]))
        status += f" ({row['error']})" if row["error"] else ""
        table.add_row(sent, row["kind"], ", ".join(row["to"]), row["subject"], status)
    return table
