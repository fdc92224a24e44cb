"""What the CLI shows: summaries of a campaign, a registration and the status of every duty.

Built from the domain and the ledger as plain data (``status_report`` is what ``--json``
prints), with a rich rendering beside it, so the words a coordinator sees are tested once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table

from duban.ledger.store import RegisterReport
from duban.model.loader import CampaignBundle


def validation_summary(bundle: CampaignBundle) -> Table:
    campaign = bundle.campaign
    per_deliverable = Counter(spec.deliverable_id for spec in bundle.instances())
    table = Table(title=f"✓ {campaign.title} ({campaign.id}) is valid: {len(bundle.units)} units")
    for name in ("deliverable", "phase", "form", "units × periods", "first due"):
        table.add_column(name)
    for d in campaign.deliverables:
        specs = [s for s in bundle.instances() if s.deliverable_id == d.id]
        first = min((s.due_date for s in specs), default=None)
        table.add_row(
            f"{d.id} {d.title}", d.phase, d.form, str(per_deliverable[d.id]), str(first or "—")
        )
    return table


def register_summary(bundle: CampaignBundle, report: RegisterReport) -> str:
    if not report.changed:
        return f"{bundle.campaign.id}: ledger already up to date, nothing changed"
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(report.counts.items()) if v)
    return f"{bundle.campaign.id}: campaign {report.campaign}; {counts or 'no unit changes'}"


STATUS_COLUMNS = {
    "deliverable": "deliverable",
    "period": "period",
    "expected": "expected",
    "received": "received",
    "on_time": "on time",
    "late": "late",
    "missing": "missing",
    "rejected": "rejected",
    "pending": "pending",
    "completeness": "complete",
    "timeliness": "timely",
}


def local_minute(moment: str, zone: str) -> str:
    """An ISO moment as the office reads it: its own zone, to the minute."""
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def status_tables(result: dict[str, Any]) -> list[Table]:
    tables = []
    for campaign in result["campaigns"]:
        table = Table(
            title=f"{campaign['title']} ({campaign['id']}) — as of "
            + local_minute(result["as_of"], campaign["timezone"]),
            caption=f"held for review (待核): {campaign['held']} messages and files"
            + (" — `duban review CAMPAIGN.yaml` lists them" if campaign["held"] else ""),
        )
        for name, header in STATUS_COLUMNS.items():
            left = name in ("deliverable", "period")
            table.add_column(header, justify="left" if left else "right", no_wrap=left)
        for row in campaign["deliverables"]:
            table.add_row(*(_cell(row[name]) for name in STATUS_COLUMNS))
        tables.append(table)
        if "tags" in campaign:
            tables.append(_tag_table(campaign))
        if "units" in campaign:
            tables.append(_unit_table(campaign))
    return tables


def _tag_table(campaign: dict[str, Any]) -> Table:
    table = Table(title=f"{campaign['id']}: per tag")
    names = {**STATUS_COLUMNS, "period": "tag"}
    for name, header in names.items():
        table.add_column(header, justify="left" if name == "deliverable" else "right")
    for row in campaign["tags"]:
        table.add_row(*(_cell(row["tag" if name == "period" else name]) for name in names))
    return table


def _unit_table(campaign: dict[str, Any]) -> Table:
    table = Table(title=f"{campaign['id']}: per unit")
    for name in ("unit", "name", "deliverable", "period", "due", "state"):
        table.add_column(name)
    for row in campaign["units"]:
        table.add_row(
            row["unit"], row["name"], row["deliverable"], row["period"], row["due"], row["state"]
        )
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0%}"
    return "—" if value is None else str(value)


def mobilize_summary(deliverable: str, result: dict[str, Any]) -> str:
    if result["status"] != "sent":
        verb = "previewed" if result["status"] == "previewed" else "held for approval"
        return (
            f"{deliverable} {result['period']}: {result['count']} notices {verb}; "
            f"open them in {result['outbox']}"
        )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result["by_status"].items()))
    return (
        f"{deliverable} {result['period']}: {result['count']} units, "
        f"{result['sent_now']} sent now; {counts}"
    )


def collect_summary(result: dict[str, Any]) -> str:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items()))
    return (
        f"received {result['received']}: {outcomes or 'nothing new'}; "
        f"{result['answered']} answers sent"
    )


def held_table(items: list[Any], zone: ZoneInfo) -> Table:
    """Held messages (M…) and files (F…): what ``duban review`` decides, oldest first."""
    table = Table(title=f"held for review: {len(items)}")
    for name in ("id", "received", "sender", "subject", "file", "why"):
        table.add_column(name, overflow="fold", no_wrap=name in ("id", "received"))
    for item in items:
        row = item.as_dict(zone)
        table.add_row(
            row["id"], row["received"], row["sender"] or "?", row["subject"] or "",
            row["file"] or "", row["reason"],
        )  # fmt: skip
    return table


def chase_summary(result: dict[str, Any]) -> str:
    if not result["office_open"]:
        return "office closed (a day off or outside office hours): nothing sent"
    if "previewed" in result:
        return f"{result['previewed']} messages previewed in {result['outbox']}"
    rungs = ", ".join(f"{k} {v}" for k, v in sorted(result["sent_by_rung"].items()))
    return (
        f"sent: {rungs or 'no reminders due'}; escalations {result['escalations']}; "
        f"bot posts {result['bot_posts']}"
    )


def remind_summary(result: dict[str, Any]) -> str:
    what = f"{result['deliverable']} {result['period']} ({result['day']})"
    parts = []
    if result["sent_now"] or not result["already"]:
        parts.append(f"{result['sent_now']} reminders sent")
    if result["already"]:
        parts.append(f"{result['already']} units already reminded today: nothing sent again "
                     "(one reminder a unit a day)")  # fmt: skip
    if result["settled"]:
        parts.append(f"{result['settled']} submitted or exempted: nothing sent")
    if result["undelivered"]:
        parts.append(f"{len(result['undelivered'])} not delivered (`duban outbox --kind remind`)")
    if not result["owed"] and not result["settled"]:
        parts = ["no unit chosen"]
    return f"{what}: " + "; ".join(parts)


def compile_summary(result: dict[str, Any]) -> Table:
    table = Table(
        title=f"{result['deliverable']} {result['period']}: expected {result['expected']}, "
        f"received {result['received']} (on time {result['on_time']}, late {result['late']}), "
        f"missing {result['missing']}, rejected {result['rejected']}",
        show_header=False,
    )
    table.add_row("summary workbook", result["workbook"])
    table.add_row("bulletin (HTML)", result["html"])
    table.add_row("bulletin (.docx)", result["docx"])
    table.add_row("detail rows", str(result["detail_rows"]))
    if result["sent"] or result["posted"]:
        table.add_row("sent / posted", f"{result['sent']} / {result['posted']}")
    return table


def outbox_table(rows: list[dict[str, Any]], zone: ZoneInfo) -> Table:
    table = Table(title=f"sent by duban: {len(rows)} most recent")
    for name in ("sent", "kind", "to", "subject", "status"):
        table.add_column(name, overflow="fold")
    for row in rows:
        sent = row["sent_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if row["sent_at"] else "—"
        status = row["status"] + (f" ({row['error']})" if row["error"] else "")
        table.add_row(sent, row["kind"], ", ".join(row["to"]), row["subject"], status)
    return table
