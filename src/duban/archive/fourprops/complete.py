"""完整性 (complete): every raw object the ledger names is in the bag (or said missing, or left
out by design), every table has the rows its schema records, every message sent has its bytes,
the event log has the events bag-info.txt counts."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from duban.archive.events import COUNT, LAST_ID, against_info
from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.model import Check
from duban.archive.gather import SENT

RAW_FOLDERS = ("data/received/messages/", "data/received/files/", "data/sent/")


def checks(view: BagView) -> list[Check]:
    return [raw_objects(view), tables(view), sent_bytes(view), event_count(view)]


def _referenced(view: BagView) -> dict[str, str]:
    """Hash → the ledger file that names it (received messages and files, messages sent)."""
    found: dict[str, str] = {}
    for table, column in (("intake_records", "raw_sha256"), ("intake_files", "sha256")):
        for row in view.rows(f"data/ledger/{table}.csv"):
            if row.get(column):
                found.setdefault(row[column], f"ledger/{table}.csv")
    for row in view.rows("data/ledger/messages.csv"):
        if row.get("raw_sha256") and row.get("status") in SENT:
            found.setdefault(row["raw_sha256"], "ledger/messages.csv")
    return found


def raw_objects(view: BagView) -> Check:
    check = Check("raw_objects", "台账引用的每个原件（收到的邮件和文件、发出的邮件）都在归档包中",
                  "every raw object the ledger references (messages and files received, "
                  "messages sent) is in the bag")  # fmt: skip
    present = {PurePosixPath(p).name.split(".", 1)[0] for p in view.payload()
               if p.startswith(RAW_FOLDERS)}  # fmt: skip
    left_out, recorded = view.left_out(), view.recorded_missing()
    for sha, where in _referenced(view).items():
        check.items += 1
        if sha in present:
            check.count("present")
        elif sha in left_out:
            check.count("left out by design")
        else:
            check.count("missing")
            said = "MISSING.txt lists it" if sha in recorded else "MISSING.txt does not list it"
            zh = "MISSING.txt 已列出" if sha in recorded else "MISSING.txt 未列出"
            check.fail(sha, f"referenced by {where}, not in the bag ({said})",
                       f"{where} 引用了它，归档包中没有（{zh}）")  # fmt: skip
    return check


def tables(view: BagView) -> Check:
    check = Check("tables", "每张导出的台账表都有 CSV，行数与其 JSON Schema 记载的一致",
                  "every exported ledger table has its CSV, with the row count its JSON "
                  "Schema records")  # fmt: skip
    for schema in (p for p in view.payload() if p.endswith(".schema.json")):
        check.items += 1
        table = schema.removesuffix(".schema.json") + ".csv"
        try:
            expected = json.loads((view.root / schema).read_text(encoding="utf-8"))["x-rows"]
        except (OSError, ValueError, KeyError, TypeError):
            check.fail(schema, "no row count (x-rows) readable", "读不到行数（x-rows）")
            continue
        if table not in view.manifests.listed:
            check.fail(table, "missing", "缺失")
            continue
        rows = sum(1 for _ in view.rows(table))
        check.counts["rows"] = check.counts.get("rows", 0) + rows
        if rows != expected:
            check.fail(
                table,
                f"{rows} rows, its schema records {expected}",
                f"{rows} 行，其 JSON Schema 记载为 {expected} 行",
            )
    return check


def sent_bytes(view: BagView) -> Check:
    check = Check("sent_bytes", "发出的每封邮件都保存了原始字节",
                  "every message sent has its exact bytes kept")  # fmt: skip
    for row in view.rows("data/ledger/messages.csv"):
        if row.get("status") not in SENT:
            continue
        check.items += 1
        if row.get("raw_sha256"):
            check.count("with bytes")
        else:
            check.count("without bytes")
            check.fail(f"message {row.get('id')} ({row.get('kind')})", *_why_not_kept(row))
    return check


def _why_not_kept(row: dict[str, str]) -> tuple[str, str]:
    if row.get("kind") == "bot":
        return ("a chat-bot post from before duban kept what it posts: only its subject "
                "(ledger/messages.csv; sent/not-kept.csv)",
                "群机器人消息，发出时 duban 尚未保存所发正文：只有标题"
                "（ledger/messages.csv；见 sent/not-kept.csv）")  # fmt: skip
    return ("sent before duban kept the bytes of what it sends (sent/not-kept.csv)",
            "发出时 duban 尚未保存已发邮件的原始字节（见 sent/not-kept.csv）")  # fmt: skip


def event_count(view: BagView) -> Check:
    read = view.events
    check = Check("event_count", "事件日志的条数和最后编号与 bag-info.txt 记载的一致",
                  "the event log has the count and last id bag-info.txt records",
                  items=read.count)  # fmt: skip
    found = {COUNT: str(read.count), LAST_ID: str(read.last_id)}
    check.said(against_info("data/events.jsonl", view.info, found))
    return check
