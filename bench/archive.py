"""The campaign archive of a 10,000-unit campaign: ``duban archive write`` and ``verify``,
beside ``sha256sum`` over the same files in the same run.

    .venv/bin/python bench/archive.py [--units 10000] [--workbooks 2] [--sent 2] [--events 6]
                                      [--database postgresql://postgres@127.0.0.1:5432/postgres]

Issue 19's last "Done when" point, and its point 5 (bounded memory). In a temporary folder: a
synthetic campaign of N units owing a quarterly report (4 duties a unit), registered by the
real ``duban init``; then, quick rather than real (bulk inserts, no intake run, no SMTP), per
unit ``--workbooks`` received messages, each an .eml of about 17 KB carrying one workbook of
about 12 KB (random bytes: the archive copies and hashes bytes, it never parses them), both
put in the raw store under their SHA-256 and recorded as the intake would (an intake record,
an intake file, an accepted submission); ``--sent`` sent messages of about 4 KB whose bytes
the raw store keeps (``messages.raw_sha256``); and ``--events`` events, hash-chained as
``duban.ledger.chain`` links them (``duban archive write`` refuses a broken chain).

Then, each a child process whose wall time and peak resident memory (``wait4``'s
``ru_maxrss``) are measured:

(a) ``duban archive --help``: what starting duban costs (imports), for reading (b) and (c);
(b) ``duban archive write CAMPAIGN --out BAG``: must file every raw object (none missing);
(c) ``duban archive verify BAG``: must pass, counting the files the bag's manifests list;
(d) the floor: ``find data -type f -print0 | xargs -0 sha256sum`` in the bag (every payload
    file hashed once, in one algorithm; the archive hashes each in SHA-256 and SM3, verify
    twice in SHA-256: bagit's check and its own);
(e) a second floor: ``cp -r`` of the raw store (what copying the bytes costs).

One table: each stage's seconds, its ratio to (d), its peak memory. Printed, never failed on:
the machine is shared, read the ratios. Exits 1 when a command fails, the archive lacks a
raw object, or verify does not pass. The raw store and the bag were just written, so their
reads may come from the page cache, the floor's alike.

Measured on 2026-12-07 (2 cores shared with other sessions, loaded: ``duban archive --help``
alone took 5–10 s), 10,000 units, 2 workbooks and 2 sent messages a unit, 6 events: 60,000
raw objects (663 MB), a bag of 60,047 files (710 MB), 60,000 events. SQLite:

    stage                         seconds  ÷ sha256sum  peak MB
    duban archive --help             4.96        0.79×    180.1
    duban archive write             51.76        8.21×    195.4
    duban archive verify            24.57        3.90×    192.4
    sha256sum (the floor)            6.31        1.00×      9.3
    cp -r of the raw store          11.53        1.83×      2.2

The same run later that day, with the four-properties report filed by write and checked again
by verify, the replay in verify, and the templates filed (60,168 files), on a quieter machine:

    stage                         seconds  ÷ sha256sum  peak MB
    duban archive --help             2.21        0.60×    183.1
    duban archive write             86.20       23.48×    223.7
    duban archive verify            62.99       17.16×    203.0
    sha256sum (the floor)            3.67        1.00×      9.2
    cp -r of the raw store           7.57        2.06×      2.1

Before the four-properties check read mail with the parser's ``compat32`` policy it took 371 s
and 206 s (55× and 31×, the machine loaded): parsing 40,000 messages twice with the
``default`` policy, 3.9 ms a message. Memory stayed flat (224 and 203 MB).

PostgreSQL (same sizes, another run, before the report and the replay): write 57.0 s (13.7×
sha256sum's 4.2 s), 204.0 MB; verify 18.1 s (4.4×), 192.4 MB; ``cp -r`` 22.8 s. Fetching
``archive.gather``'s rows in batches (``yield_per``) saved 1.6 MB there and was left out.

At 1,000 units (6,047 files) the same run gave write 180.0 MB and verify 180.0 MB: ten times
the files add about 15 MB to either, over the 180 MB that starting duban takes (its imports).
No file's bytes are ever held whole (every copy and hash reads 1 MB at a time); what grows
with the number of files and events is their names and digests: bagit-python's manifest lines
while it writes them (``make_bag``) and its manifest entries while it checks a bag, the hashes
``archive.gather`` lists, and verify's own table of every manifest's entries: under
``tracemalloc`` at 30,000 files, 0.8, 1.2, 0.3 and 1.1 KB a file. Before this benchmark
verify also kept every event's canonical bytes (19 MB at 30,000 events); it now checks the
chain as it reads the lines.

Where the time goes (``cProfile`` at 5,000 units): write copies every raw object, hashing it
as it goes, then bagit-python reads the whole payload again for the SHA-256 and SM3 manifests;
checking the live ledger's chain before, exporting the ledger, and parsing the roster (about a
fifth together) are the rest. Verify reads the payload once (both algorithms); before this
benchmark bagit-python's own validation read it a second time for SHA-256 alone; about a third
of it is bagit-python loading its manifests (a ``realpath`` for every entry).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # run as a script or imported: its neighbours

from ledger_shell import ZONE, bench_database, coordinator_env  # noqa: E402

DUBAN = [sys.executable, "-m", "duban"]
CAMPAIGN = "bench-archive"
WORKBOOK = 12_000
"""Bytes of a received workbook, give or take 10 %."""
SENT = 4_000
"""Bytes of a sent message, give or take 10 %."""
HASH_ALL = 'cd "$1" && find data -type f -print0 | xargs -0 sha256sum > /dev/null'
"""The floor: every payload file of the bag (``$1``) hashed once, in SHA-256."""
TIME = shutil.which("time", path="/usr/bin:/bin")
"""GNU time, for each child's own peak memory (see ``_child``)."""
BATCH = 5_000
"""Rows per bulk insert."""

CAMPAIGN_YAML = f"""\
id: {CAMPAIGN}
title: 归档基准（合成活动）
language: zh-CN
timezone: {ZONE}
calendar:
  kind: cn-official
roster: roster.csv
phases:
  - id: implement
    title: 组织推进
    start: 2026-01-01
    end: 2026-12-31
forms:
  - id: quarterly
    title: 季度工作情况表
    sheets:
      - name: 季报
        min_rows: 1
        max_rows: 20
        columns:
          - {{key: text, label: 内容, required: true, max_length: 3000, width: 80}}
deliverables:
  - id: quarterly
    phase: implement
    title: 季度工作情况
    form: quarterly
    assign: {{all: true}}
    due: {{every: quarter, day: 10, roll: next-working-day}}
roles:
  coordinator: {{name: 市优化办, email: youhuaban@jt.example}}
"""


class BenchError(Exception):
    """A command failed or the archive is not what the ledger holds: the script exits 1."""


@dataclass(frozen=True)
class Stage:
    """One child process: its wall time, peak resident memory and what it printed."""

    name: str
    seconds: float
    peak_mb: float
    output: str


@dataclass
class Filled:
    """What the synthetic ledger and raw store hold."""

    received: int = 0  # messages (.eml) and workbooks each
    sent: int = 0
    events: int = 0
    raw_files: int = 0
    raw_bytes: int = 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.units < 1:
        raise SystemExit("--units must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="duban-bench-archive-") as tmp:
            work = Path(tmp)
            with bench_database(work, args.database) as url:
                return _run(args, work, url)
    except BenchError as error:
        _say(f"FAILED: {error}")
        return 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="synthetic units")
    parser.add_argument("--workbooks", type=int, default=2,
                        help="received messages per unit, one workbook each")  # fmt: skip
    parser.add_argument("--sent", type=int, default=2, help="sent messages per unit")
    parser.add_argument("--events", type=int, default=6, help="events per unit")
    parser.add_argument("--seed", type=int, default=19, help="the bytes' draw")
    parser.add_argument(
        "--database",
        help="a PostgreSQL server's URL (postgresql://postgres@127.0.0.1:5432/postgres): the "
        "ledger goes in a fresh database there, dropped at the end; default SQLite",
    )
    return parser.parse_args(argv)


def _run(args: argparse.Namespace, work: Path, url: str) -> int:
    env = coordinator_env(work, url)
    campaign = _write_campaign(work / "campaign", args.units)
    started = time.perf_counter()
    _child("init", [*DUBAN, "init", str(campaign)], env)
    filled = _fill(url, work / "home" / "raw", args)
    setup = time.perf_counter() - started
    bag, raw = work / "bag", work / "home" / "raw"
    startup = _child("duban archive --help", [*DUBAN, "archive", "--help"], env)
    write = _child(
        "duban archive write", [*DUBAN, "archive", "write", str(campaign), "--out", str(bag)], env
    )
    verify = _child("duban archive verify", [*DUBAN, "archive", "verify", str(bag)], env)
    payload = _payload(bag)
    floor = _child("sha256sum (the floor)", ["sh", "-c", HASH_ALL, "sh", str(bag)], env)
    copy = _child("cp -r of the raw store", ["cp", "-r", str(raw), str(work / "copy")], env)
    _report(args, url, filled, setup, payload, [startup, write, verify, floor, copy], floor)
    _check(filled, write, verify, payload)
    return 0


# --- the ledger and the raw store ---------------------------------------------------------


def _write_campaign(folder: Path, units: int) -> Path:
    folder.mkdir(parents=True)
    lines = ["id,name,tags,emails,head_email"]
    lines += [f"U{n:05d},第{n}单位,镇区,u{n}@bench.example,h{n}@bench.example"
              for n in range(units)]  # fmt: skip
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    campaign = folder / "campaign.yaml"
    campaign.write_text(CAMPAIGN_YAML, encoding="utf-8")
    return campaign


def _fill(url: str, raw: Path, args: argparse.Namespace) -> Filled:
    """Per unit: received messages and workbooks, sent messages, events, in bulk."""
    from sqlalchemy import select

    from duban.ledger.db import make_engine
    from duban.ledger.schema import InstanceRow

    rng = random.Random(args.seed)
    filled = Filled()
    engine = make_engine(url)
    with engine.begin() as db:
        duties: dict[str, list[tuple[int, datetime]]] = {}
        query = (select(InstanceRow.unit_id, InstanceRow.id, InstanceRow.due_at)
                 .where(InstanceRow.campaign_id == CAMPAIGN).order_by(InstanceRow.id))  # fmt: skip
        for unit, instance_id, due in db.execute(query):
            duties.setdefault(unit, []).append((instance_id, due))
        units = sorted(duties)
        for start in range(0, len(units), max(1, BATCH // max(1, args.workbooks))):
            chunk = units[start : start + max(1, BATCH // max(1, args.workbooks))]
            _received(db, raw, rng, [(u, duties[u]) for u in chunk], args.workbooks, filled)
            _sent(db, raw, rng, [(u, duties[u]) for u in chunk], args.sent, filled)
        _events(db, units, args.events, filled)
    engine.dispose()
    return filled


def _put(raw: Path, data: bytes, filled: Filled) -> str:
    """Into the raw store's layout (``ab/cd/<sha>``), without its flushes: a bench's store."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    target = raw / sha[:2] / sha[2:4] / sha
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    filled.raw_files += 1
    filled.raw_bytes += len(data)
    return sha


def _eml(sender: str, subject: str, name: str, workbook: bytes) -> bytes:
    body = base64.encodebytes(workbook).decode("ascii").replace("\n", "\r\n")
    return (
        f"From: {sender}\r\nTo: youhuaban@jt.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{name}@bench.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n附件为本单位报表。\r\n--b\r\n"
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
        f'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="{name}"'
        f"\r\n\r\n{body}--b--\r\n"
    ).encode()


def _received(db: Any, raw: Path, rng: random.Random,
              units: Sequence[tuple[str, list[tuple[int, datetime]]]], per_unit: int,
              filled: Filled) -> None:  # fmt: skip
    """Each unit's first ``per_unit`` duties answered: an .eml and its workbook in the raw
    store, an intake record, an intake file and an accepted submission."""
    from sqlalchemy import insert

    from duban.ledger.schema import IntakeFileRow, IntakeRow, SubmissionRow

    records, files = [], []
    for unit, duties in units:
        for k, (instance_id, due) in enumerate(duties[:per_unit]):
            name = f"{unit}-{k}.xlsx"
            workbook = rng.randbytes(WORKBOOK + rng.randint(-WORKBOOK // 10, WORKBOOK // 10))
            sender = f"u{unit}@bench.example"
            message = _eml(sender, f"{unit} 季度报表 {k + 1}", f"{unit}-{k}", workbook)
            at = due - timedelta(days=rng.randint(1, 9), hours=rng.randint(1, 8))
            records.append({"campaign_id": CAMPAIGN, "source": "bench", "source_ref": name,
                            "raw_sha256": _put(raw, message, filled), "sender": sender,
                            "subject": f"{unit} 季度报表", "message_id": f"<{unit}-{k}@bench>",
                            "received_at": at, "recorded_at": at, "status": "accepted",
                            "detail": {}})  # fmt: skip
            files.append({"index": 0, "unit_id": unit, "instance_id": instance_id,
                          "sha256": _put(raw, workbook, filled), "filename": name,
                          "size": len(workbook), "outcome": "accepted", "path": [],
                          "problems": [], "at": at})  # fmt: skip
    if not records:
        return
    ids = db.execute(insert(IntakeRow).returning(IntakeRow.id, sort_by_parameter_order=True),
                     records).scalars().all()  # fmt: skip
    for intake_id, item in zip(ids, files, strict=True):
        item["intake_id"] = intake_id
    at = [item.pop("at") for item in files]
    file_ids = (
        db.execute(
            insert(IntakeFileRow).returning(IntakeFileRow.id, sort_by_parameter_order=True), files
        )
        .scalars()
        .all()
    )
    db.execute(insert(SubmissionRow), [
        {"instance_id": item["instance_id"], "version": 1, "intake_file_id": file_id,
         "sha256": item["sha256"], "received_at": when, "on_time": True, "row_count": 1,
         "rows": {"main": [{"text": f"{item['unit_id']} 本季度工作情况"}]}}
        for item, file_id, when in zip(files, file_ids, at, strict=True)
    ])  # fmt: skip
    filled.received += len(records)


def _sent(db: Any, raw: Path, rng: random.Random,
          units: Sequence[tuple[str, list[tuple[int, datetime]]]], per_unit: int,
          filled: Filled) -> None:  # fmt: skip
    """Each unit's notices and reminders, sent, their bytes kept in the raw store."""
    from sqlalchemy import insert

    from duban.ledger.schema import MessageRow

    rows = []
    for unit, duties in units:
        for k in range(per_unit):
            instance_id, due = duties[k % len(duties)]
            kind = "notice" if k < len(duties) else "reminder"
            key = f"{kind}-{unit}-{k}"
            text = rng.randbytes(SENT * 3 // 4 + rng.randint(-SENT // 15, SENT // 15))
            body = base64.encodebytes(text).decode("ascii").replace("\n", "\r\n")
            message = (f"From: youhuaban@jt.example\r\nTo: u{unit}@bench.example\r\n"
                       f"Subject: 请报送季度工作情况 ({unit})\r\nMessage-ID: <{key}@duban>\r\n"
                       f"Content-Transfer-Encoding: base64\r\n\r\n{body}").encode()  # fmt: skip
            at = due - timedelta(days=20 - k)
            rows.append({"idempotency_key": key, "campaign_id": CAMPAIGN,
                         "instance_id": instance_id, "kind": kind,
                         "recipients": [f"u{unit}@bench.example"],
                         "subject": f"请报送季度工作情况 ({unit})", "message_id": f"<{key}@duban>",
                         "status": "sent", "refused": [], "created_at": at, "sent_at": at,
                         "raw_sha256": _put(raw, message, filled)})  # fmt: skip
    if rows:
        db.execute(insert(MessageRow), rows)
    filled.sent += len(rows)


def _events(db: Any, units: list[str], per_unit: int, filled: Filled) -> None:
    """``per_unit`` events a unit, with their links continuing the campaign's chain."""
    from sqlalchemy import select

    from duban.ledger.chain import GENESIS, canonical_event, link_hash
    from duban.ledger.schema import EventLinkRow

    head = db.execute(select(EventLinkRow.seq, EventLinkRow.sha256)
                      .where(EventLinkRow.chain == CAMPAIGN)
                      .order_by(EventLinkRow.seq.desc()).limit(1)).first()  # fmt: skip
    seq, prev = (0, GENESIS) if head is None else (head.seq, head.sha256)
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    kinds = ("message.sent", "intake.recorded", "submission.accepted")
    pending: list[dict[str, Any]] = []
    for n, unit in enumerate(units):
        for k in range(per_unit):
            at = start + timedelta(seconds=n * per_unit + k)
            pending.append({"at": at, "campaign_id": CAMPAIGN, "kind": kinds[k % len(kinds)],
                            "subject": unit, "actor": "bench",
                            "payload": {"unit": unit, "step": k, "note": "基准事件"}})  # fmt: skip
        if len(pending) >= BATCH or n == len(units) - 1:
            seq, prev = _insert_events(db, pending, seq, prev, canonical_event, link_hash)
            filled.events += len(pending)
            pending = []


def _insert_events(db: Any, rows: list[dict[str, Any]], seq: int, prev: str,
                   canonical: Any, link: Any) -> tuple[int, str]:  # fmt: skip
    from sqlalchemy import insert

    from duban.ledger.schema import EventLinkRow, EventRow

    if not rows:
        return seq, prev
    ids = db.execute(insert(EventRow).returning(EventRow.id, sort_by_parameter_order=True),
                     rows).scalars().all()  # fmt: skip
    links = []
    for event_id, row in zip(ids, rows, strict=True):
        seq += 1
        data = canonical(event_id, row["at"], row["campaign_id"], row["kind"], row["subject"],
                         row["actor"], row["payload"])  # fmt: skip
        sha = link(prev, data)
        links.append({"event_id": event_id, "chain": CAMPAIGN, "seq": seq,
                      "prev_sha256": prev, "sha256": sha})  # fmt: skip
        prev = sha
    db.execute(insert(EventLinkRow), links)
    return seq, prev


# --- the measures -------------------------------------------------------------------------


def _child(name: str, command: list[str], env: dict[str, str]) -> Stage:
    """Run ``command``; its wall time and peak resident memory.

    The peak is GNU time's (``/usr/bin/time -f %M``): a child of this process, forked or
    spawned, starts with this process's peak as its own (Linux counts the memory it was
    forked from, or shares until its ``exec``), whereas ``time``'s child is forked from a
    process of a few hundred kilobytes. Without ``/usr/bin/time``, ``wait4``'s peak, which
    is at least this process's."""
    with tempfile.TemporaryDirectory() as tmp:
        log, peak = Path(tmp) / "log", Path(tmp) / "peak"
        timed = [TIME, "-f", "%M", "-o", str(peak), *command] if TIME else command
        with log.open("wb") as handle:
            started = time.perf_counter()
            process = subprocess.Popen(timed, env=env, stdout=handle, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        output = log.read_text(encoding="utf-8", errors="replace")
        kilobytes = int(peak.read_text().split()[-1]) if TIME else usage.ru_maxrss
    if code != 0:
        raise BenchError(f"{name} exited {code}:\n{output[-3000:]}")
    return Stage(name, seconds, kilobytes / 1024, " ".join(output.split()))


def _payload(bag: Path) -> tuple[int, int]:
    """The bag's payload: files and bytes under ``data/``."""
    files = size = 0
    for folder, _, names in os.walk(bag / "data"):
        for name in names:
            files += 1
            size += (Path(folder) / name).stat().st_size
    return files, size


def _check(filled: Filled, write: Stage, verify: Stage, payload: tuple[int, int]) -> None:
    """Every raw object filed, and verify counted every payload file."""
    if "missing or damaged" in write.output:
        raise BenchError(f"the archive lacks raw objects:\n{write.output}")
    verified = re.search(r"verifies: campaign \S+, (\d+) files, (\d+) events", verify.output)
    if verified is None:
        raise BenchError(f"verify said something else:\n{verify.output}")
    files, events = int(verified.group(1)), int(verified.group(2))
    if files != payload[0] or files < filled.raw_files or events < filled.events:
        raise BenchError(f"verify checked {files} files and {events} events; the bag holds "
                         f"{payload[0]} files, the raw store {filled.raw_files} objects, the "
                         f"ledger {filled.events} events or more")  # fmt: skip


def _report(args: argparse.Namespace, url: str, filled: Filled, setup: float,
            payload: tuple[int, int], stages: list[Stage], floor: Stage) -> None:  # fmt: skip
    ledger = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    _say(f"\n=== the archive of {args.units} units (ledger on {ledger})")
    _say(f"ledger: {filled.received} received messages with one workbook each, "
         f"{filled.sent} sent messages, {filled.events} bench events; init and fill "
         f"{setup:.1f} s")  # fmt: skip
    _say(f"raw store: {filled.raw_files} files, {filled.raw_bytes / 1e6:.1f} MB")
    _say(f"bag payload: {payload[0]} files, {payload[1] / 1e6:.1f} MB")
    _say("")
    _say(f"{'stage':28} {'seconds':>8} {'÷ sha256sum':>12} {'peak MB':>8}")
    for stage in stages:
        ratio = stage.seconds / floor.seconds if floor.seconds else 0.0
        _say(f"{stage.name:28} {stage.seconds:8.2f} {ratio:11.2f}× {stage.peak_mb:8.1f}")


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


if __name__ == "__main__":
    sys.exit(main())
