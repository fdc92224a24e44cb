"""The board's status matrix under 20 concurrent readers, beside ``duban status --json``.

    .venv/bin/python bench/board.py [--units 10000] [--readers 20] [--requests 400]
                                    [--seconds 120]
                                    [--database postgresql://postgres@127.0.0.1:5432/postgres]

Issue 18's last "Done when" point. In a temporary folder: a synthetic campaign of N units
(tagged 镇区, 市级机关 or 街道 in turn) owing one monthly report, so 12 deliverable periods a
unit (due the 10th, rolled to the next working day), registered by the real ``duban init``;
then the cells filled in bulk with SQL inserts, as of 8 December 2026 (``DUBAN_NOW``): of the
duties already due, 62 % answered on time, 10 % late, 6 % refused, 5 % held for review, 3 %
extended, 2 % exempt, the rest missing; of December's (due on the 10th) 30 % already
answered. Quick rather than realistic: no raw files, no events, no messages.

Then, on the same ledger in the same run:

(a) the floor: ``duban status --json`` as a child process, median wall time of 3 runs (a
    command that starts, reads the same duties and prints every period's counts);
(b) the board: the real ``duban board`` serving on 127.0.0.1 in a child process (uvicorn), a
    viewer account made by ``duban users add``, signed in once through the login form (its
    CSRF token), then the first matrix page alone (cold: the matrix is built), then
    ``--readers`` threads, each with its own ``httpx.Client`` and the session's cookie,
    requesting matrix pages with varied filters (state, tag, search, sort, page) until
    ``--requests`` pages were answered or ``--seconds`` passed. Every answer must be 200 and
    show rows (the filters are chosen so that each one matches some unit).

The verdict is p95 of (b) ÷ the median of (a), target ≤ 2×; printed as met or missed, never
failed on (the machine is shared: read the ratio, both figures come from the same run). Exits
1 when a command fails, a page is not 200 or shows no rows, or ``status --json`` counts other
than the ledger holds.

``DUBAN_NOW`` is fixed, so the minute never turns during the load: the board's cache (one
matrix per campaign, kept until the ledger or the minute changes) is built by the first request
only. ``--system-clock`` runs the board on the system clock instead, so that a long load
(``--requests 100000 --seconds 150``) sees the minute turn and the matrix rebuilt beside the
readers (``Board.matrix``); the cells are then those of the system's date.
``--write-every 2`` adds another writer during the load (this script appending an event every
2 s through its own connection, as a collect run records replies), so the ledger's stamp keeps
changing: the board shows the matrix it has while it builds the next beside the readers.

Measured on 2026-12-06 (2 cores shared with other sessions, load average 4–7: read the
ratios), 10,000 units, 20 readers, 400 pages. SQLite: ``duban status --json`` 8.2 s (about
3 s of imports; most of the rest ``instance_facts`` loading 120,000 duties as ORM objects and
their times through ``UTCDateTime``), the first matrix page 6.0 s (the same
``instance_facts``), then 59 pages/s, p50 0.31 s, p95 0.50 s, max 0.66 s: p95 ÷ status
0.06×, target ≤ 2×. PostgreSQL: status 8.5 s, first page 5.5 s, 65 pages/s, p95 0.45 s
(0.05×). ``--system-clock`` for 150 s (8,867 pages, two minute turns): p95 0.58 s, max
1.7 s. ``--write-every 2`` for 90 s (44 writes, 4,473 pages): p95 0.78 s, max 2.0 s; before
``Board.matrix`` built beside the readers, the same load got 155 pages in 116 s, p95 60 s
(the client's limit) and 25 failed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # run as a script or imported: its neighbours

from ledger_shell import NOW, ZONE, bench_database, coordinator_env  # noqa: E402

DUBAN = [sys.executable, "-m", "duban"]
CAMPAIGN = "bench-board"
USER, PASSWORD = "bench-viewer", "bench-password-123"
TAGS = ("镇区", "市级机关", "街道")
SHARES = (("on-time", 0.62), ("late", 0.10), ("rejected", 0.06), ("held", 0.05),
          ("extended", 0.03), ("exempt", 0.02))  # fmt: skip
"""What a due duty became, by share; the rest are missing."""
EARLY = 0.30
"""The share of duties not yet due already answered (on time)."""
STATUS_RUNS = 3
TARGET = 2.0
PER_PAGE = 100
"""The board's page size (``MatrixQuery.per_page``)."""
ROW = re.compile(r'data-unit="')

CAMPAIGN_YAML = f"""\
id: {CAMPAIGN}
title: 看板基准（合成活动）
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
  - id: monthly
    title: 月度工作情况表
    sheets:
      - name: 月报
        min_rows: 1
        max_rows: 20
        columns:
          - {{key: text, label: 内容, required: true, max_length: 3000, width: 80}}
deliverables:
  - id: monthly
    phase: implement
    title: 月度工作情况
    form: monthly
    assign: {{all: true}}
    due: {{every: month, day: 10, roll: next-working-day}}
roles:
  coordinator: {{name: 市优化办, email: youhuaban@jt.example}}
"""


class BenchError(Exception):
    """A command failed or a count is wrong: the script exits 1."""


@dataclass
class Load:
    """What the readers saw: one (seconds, status, rows, path) per answered request."""

    answers: list[tuple[float, int, int, str]] = field(default_factory=list)
    wall: float = 0.0

    @property
    def times(self) -> list[float]:
        return sorted(seconds for seconds, _, _, _ in self.answers)

    def bad(self) -> list[tuple[float, int, int, str]]:
        return [a for a in self.answers if a[1] != 200 or a[2] == 0]


def percentile(ordered: list[float], share: float) -> float:
    """Nearest rank: the smallest time at least ``share`` of the requests took no more than."""
    return ordered[max(0, ceil(share * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.units < 10:
        raise SystemExit("--units must be at least 10")
    try:
        with tempfile.TemporaryDirectory(prefix="duban-bench-board-") as tmp:
            work = Path(tmp)
            with bench_database(work, args.database) as url:
                return _run(args, work, url)
    except BenchError as error:
        _say(f"FAILED: {error}")
        return 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="synthetic units (≥ 10)")
    parser.add_argument("--readers", type=int, default=20, help="concurrent readers")
    parser.add_argument("--requests", type=int, default=400, help="matrix pages to ask, at most")
    parser.add_argument("--seconds", type=float, default=120.0, help="the load's time limit")
    parser.add_argument("--seed", type=int, default=18, help="the cells' and filters' draw")
    parser.add_argument(
        "--system-clock",
        action="store_true",
        help="the board on the system clock instead of DUBAN_NOW, so the minute turns during "
        "a long load (with --requests 100000 --seconds 150): the matrix is rebuilt beside the "
        "readers; the cells are then the system date's",
    )
    parser.add_argument(
        "--write-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="during the load, another writer (this script, its own connection) appends an "
        "event every SECONDS, as a collect run records replies: the ledger's stamp changes",
    )
    parser.add_argument(
        "--database",
        help="a PostgreSQL server's URL (postgresql://postgres@127.0.0.1:5432/postgres): the "
        "ledger goes in a fresh database there, dropped at the end; default SQLite",
    )
    return parser.parse_args(argv)


def _run(args: argparse.Namespace, work: Path, url: str) -> int:
    env = coordinator_env(work, url, "zh-CN")
    rng = random.Random(args.seed)
    campaign = _write_campaign(work / "campaign", args.units)
    started = time.perf_counter()
    _command(["init", str(campaign)], env)
    filled = _fill(url, rng)
    _command(["users", "add", USER, "--role", "viewer", "--password-stdin"], env, PASSWORD)
    setup = time.perf_counter() - started
    status_times = [_status(env, args.units, filled["duties"]) for _ in range(STATUS_RUNS)]
    paths = _paths(rng, args.units, args.requests, filled)
    served = {k: v for k, v in env.items() if not (args.system_clock and k == "DUBAN_NOW")}
    with _board(served, campaign, work) as (base, server):
        cookies = _sign_in(base)
        cold = _cold(base, cookies)
        with _writer(url, args.write_every) as writes:
            load = _load(base, cookies, paths, args.readers, args.seconds)
        peak_mb = _peak_mb(server)
    _report(args, url, filled, setup, status_times, cold, load, peak_mb)
    if args.write_every:
        _say(f"another writer appended {writes[0]} events during the load "
             f"(one every {args.write_every:g} s)")  # fmt: skip
    bad = load.bad()
    if bad or not load.answers:
        raise BenchError(f"{len(bad)} pages not 200 or without rows, e.g. {bad[:3]}")
    return 0


# --- the ledger ---------------------------------------------------------------------------


def _write_campaign(folder: Path, units: int) -> Path:
    folder.mkdir(parents=True)
    lines = ["id,name,tags,emails,head_email"]
    lines += [f"U{n:05d},第{n}单位,{TAGS[n % len(TAGS)]},u{n}@bench.example,h{n}@bench.example"
              for n in range(units)]  # fmt: skip
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    campaign = folder / "campaign.yaml"
    campaign.write_text(CAMPAIGN_YAML, encoding="utf-8")
    return campaign


def _command(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run([*DUBAN, *args], env=env, input=stdin, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"duban {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def _fill(url: str, rng: random.Random) -> dict[str, Any]:
    """Every duty's fate drawn by ``SHARES``, written with a few bulk inserts and updates."""
    from sqlalchemy import bindparam, insert, select, update

    from duban.clock import parse_moment
    from duban.ledger.db import make_engine
    from duban.ledger.schema import InstanceRow, SubmissionRow

    now = parse_moment(NOW, _zone())
    engine = make_engine(url)
    fates: dict[str, list[tuple[int, str, datetime]]] = {}
    with engine.begin() as db:
        duties = db.execute(
            select(InstanceRow.id, InstanceRow.unit_id, InstanceRow.due_at)
            .where(InstanceRow.campaign_id == CAMPAIGN)
            .order_by(InstanceRow.id)
        ).all()
        for instance_id, unit_id, due_at in duties:
            fates.setdefault(_fate(rng, due_at, now), []).append((instance_id, unit_id, due_at))
        submissions = [
            {"instance_id": i, "version": 1, "sha256": f"{i:064x}", "row_count": 1,
             "received_at": at, "on_time": fate != "late"}
            for fate in ("on-time", "late")
            for i, _, due in fates.get(fate, [])
            for at in [_answered(rng, fate, due, now)]
        ]  # fmt: skip
        if submissions:
            db.execute(insert(SubmissionRow), submissions)
        for fate in ("rejected", "held"):
            _replies(db, fates.get(fate, []), fate, rng)
        changes = [("extended", {"extended_to": now + timedelta(days=10)}),
                   ("exempt", {"exempt": True})]  # fmt: skip
        for fate, values in changes:
            ids = [{"key": i} for i, _, _ in fates.get(fate, [])]
            if ids:
                statement = update(InstanceRow).where(InstanceRow.id == bindparam("key"))
                db.execute(statement.values(**values), ids)
    engine.dispose()
    counts = {fate: len(rows) for fate, rows in sorted(fates.items())}
    return {"duties": len(duties), "fates": counts}


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(ZONE)


def _fate(rng: random.Random, due_at: datetime, now: datetime) -> str:
    draw = rng.random()
    if due_at > now:
        return "on-time" if draw < EARLY else "pending"
    for fate, share in SHARES:
        if draw < share:
            return fate
        draw -= share
    return "missing"


def _answered(rng: random.Random, fate: str, due: datetime, now: datetime) -> datetime:
    if fate == "late":
        return min(now, due + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8)))
    return due - timedelta(days=rng.randint(0, 12), hours=rng.randint(1, 8))


def _replies(db: Any, duties: list[tuple[int, str, datetime]], fate: str,
             rng: random.Random) -> None:  # fmt: skip
    """One received message with one file for each duty, refused or held for review."""
    from sqlalchemy import insert, select

    from duban.ledger.schema import IntakeFileRow, IntakeRow

    if not duties:
        return
    status = "rejected" if fate == "rejected" else "held"
    records = [
        {"campaign_id": CAMPAIGN, "source": "bench", "source_ref": f"{fate}-{i}",
         "raw_sha256": f"{i:064x}", "sender": f"u{unit}@bench.example", "status": status,
         "received_at": at, "recorded_at": at, "reason": "bench"}
        for i, unit, due in duties
        for at in [due - timedelta(days=rng.randint(0, 5), hours=1)]
    ]  # fmt: skip
    db.execute(insert(IntakeRow), records)
    made = dict(db.execute(select(IntakeRow.source_ref, IntakeRow.id)
                           .where(IntakeRow.source == "bench")).tuples().all())  # fmt: skip
    files = [
        {"intake_id": made[f"{fate}-{i}"], "index": 0, "unit_id": unit, "instance_id": i,
         "sha256": f"{i:064x}", "filename": f"{unit}.xlsx", "size": 10_000, "outcome": status,
         "reason": "bench"}
        for i, unit, _ in duties
    ]  # fmt: skip
    db.execute(insert(IntakeFileRow), files)


def _status(env: dict[str, str], units: int, duties: int) -> float:
    """``duban status --json``'s wall time; its counts must add up to the ledger's."""
    started = time.perf_counter()
    output = _command(["status", "--json"], env)
    seconds = time.perf_counter() - started
    periods = json.loads(output)["campaigns"][0]["deliverables"]
    expected = sum(p["expected"] + p["exempted"] for p in periods)
    if len(periods) != 12 or expected != duties or duties != 12 * units:
        raise BenchError(f"status --json counted {expected} duties in {len(periods)} periods, "
                         f"the ledger holds {duties} ({units} units × 12)")  # fmt: skip
    return seconds


# --- the board ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _board(env: dict[str, str], campaign: Path, work: Path) -> Iterator[tuple[str, int]]:
    """``duban board`` on a free loopback port, until it answers; stopped at the end."""
    port = _free_port()
    log = (work / "board.log").open("w", encoding="utf-8")
    server = subprocess.Popen([*DUBAN, "board", str(campaign), "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise BenchError(f"duban board exited {server.returncode}: "
                                 f"{(work / 'board.log').read_text(encoding='utf-8')}")  # fmt: skip
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("duban board did not answer within 120 s")
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _peak_mb(pid: int) -> float:
    """The server's peak resident memory so far (VmHWM), in MB; 0 where /proc has none."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    found = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(found.group(1)) / 1024 if found else 0.0


def _sign_in(base: str) -> httpx.Cookies:
    """The login form's CSRF token, then the form posted: the signed session cookie."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if token is None:
            raise BenchError("the login page has no CSRF token")
        done = client.post("/login", data={"username": USER, "password": PASSWORD,
                                           "csrf": token.group(1), "next": "/"})  # fmt: skip
        if done.status_code not in (302, 303):
            raise BenchError(f"signing in answered {done.status_code}")
        return client.cookies


def _matrix(path: str = "", **query: object) -> str:
    shown = {k: v for k, v in query.items() if v not in ("", None)}
    return f"/c/{CAMPAIGN}/matrix" + (f"?{urlencode(shown)}" if shown else path)


def _paths(rng: random.Random, units: int, count: int, filled: dict[str, Any]) -> list[str]:
    """``count`` matrix pages with filters that each match some unit: a page of the whole
    matrix, one state (only states the ledger has), a tag, a search by name or id, the
    trouble sort, or a combination, each on a drawn page (past the last shows the last)."""
    pages = max(1, ceil(units / PER_PAGE))
    fates = filled["fates"]
    states = [cell for cell, fate in (("on-time", "on-time"), ("late", "late"),
                                      ("missing", "missing"), ("rejected", "rejected"),
                                      ("held", "held"), ("extended", "extended"),
                                      ("exempt", "exempt"), ("pending", "pending"))
              if fates.get(fate)]  # fmt: skip
    paths = []
    for _ in range(count):
        kind = rng.randrange(6)
        page = rng.randint(1, pages)
        unit = rng.randrange(units)
        if kind == 0:
            paths.append(_matrix(page=page))
        elif kind == 1:
            paths.append(_matrix(state=rng.choice(states), page=rng.randint(1, 3)))
        elif kind == 2:
            paths.append(_matrix(tag=rng.choice(TAGS), page=rng.randint(1, max(1, pages // 3))))
        elif kind == 3:
            needle = f"第{unit}" if rng.random() < 0.5 else f"U{unit:05d}"
            paths.append(_matrix(q=needle))
        elif kind == 4:
            paths.append(_matrix(sort="trouble", desc="true", page=page))
        else:
            paths.append(_matrix(tag=TAGS[unit % len(TAGS)], q=f"第{unit}", sort="name"))
    return paths


@contextmanager
def _writer(url: str, every: float) -> Iterator[list[int]]:
    """With ``every`` > 0, a thread appending an event every ``every`` seconds through its own
    engine (another writer than the board) until the load ends; yields its count."""
    written = [0]
    if every <= 0:
        yield written
        return
    from duban.clock import SystemClock
    from duban.ledger.db import make_engine, session_scope
    from duban.ledger.store import append_event

    engine = make_engine(url)
    stop = threading.Event()

    def write() -> None:
        while not stop.wait(every):
            with session_scope(engine) as session:
                append_event(session, SystemClock(), "bench.write", campaign_id=CAMPAIGN)
            written[0] += 1

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def _cold(base: str, cookies: httpx.Cookies) -> tuple[float, int]:
    """The first matrix page after the server started: the matrix is built for it."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=600) as client:
        started = time.perf_counter()
        answer = client.get(_matrix())
        seconds = time.perf_counter() - started
    if answer.status_code != 200 or not ROW.search(answer.text):
        raise BenchError(f"the first matrix page answered {answer.status_code} "
                         f"without rows: {answer.text[:300]}")  # fmt: skip
    return seconds, len(answer.content)


def _load(base: str, cookies: httpx.Cookies, paths: list[str], readers: int,
          limit: float) -> Load:  # fmt: skip
    """``readers`` threads take the next path until none is left or the time is up."""
    load = Load()
    lock = threading.Lock()
    queue = iter(paths)
    deadline = time.monotonic() + limit

    def reader() -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=limit) as client:
            while time.monotonic() < deadline:
                with lock:
                    path = next(queue, None)
                if path is None:
                    return
                started = time.perf_counter()
                try:
                    answer = client.get(path)
                    code, rows = answer.status_code, len(ROW.findall(answer.text))
                except httpx.TransportError as error:  # counted as a failure, status 0
                    code, rows, path = 0, 0, f"{path} ({type(error).__name__}: {error})"
                seconds = time.perf_counter() - started
                with lock:
                    load.answers.append((seconds, code, rows, path))

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.wall = time.perf_counter() - started
    return load


# --- the report ---------------------------------------------------------------------------


def _report(args: argparse.Namespace, url: str, filled: dict[str, Any], setup: float,
            status_times: list[float], cold: tuple[float, int], load: Load,
            peak_mb: float) -> None:  # fmt: skip
    ledger = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    status = statistics.median(status_times)
    times = load.times or [0.0]
    p50, p95, worst = percentile(times, 0.5), percentile(times, 0.95), times[-1]
    ratio = p95 / status if status else float("inf")
    rows = sum(a[2] for a in load.answers)
    fates = ", ".join(f"{fate} {n}" for fate, n in filled["fates"].items())
    clock = "the system clock" if args.system_clock else f"DUBAN_NOW={NOW}"
    _say(f"\n=== the status matrix at {args.units} units × 12 periods (ledger on {ledger})")
    _say(f"board on {clock}")
    _say(f"ledger: {filled['duties']} duties ({fates}); init and fill {setup:.1f} s")
    _say(f"duban status --json: median {status:.2f} s of {len(status_times)} runs "
         f"({', '.join(f'{t:.2f}' for t in status_times)})")  # fmt: skip
    _say(f"board, first matrix page (cold, the matrix built): {cold[0]:.2f} s, {cold[1]} bytes")
    _say(f"board, {args.readers} readers: {len(load.answers)} of {args.requests} pages "
         f"answered in {load.wall:.1f} s (limit {args.seconds:.0f} s), "
         f"{len(load.answers) / load.wall if load.wall else 0:.1f} pages/s, "
         f"{len(load.bad())} not 200 or without rows, {rows} rows shown; "
         f"server peak {peak_mb:.0f} MB")  # fmt: skip
    _say("")
    _say(f"{'measure':34} {'seconds':>8} {'÷ status':>9}")
    for name, value in (("duban status --json (median)", status),
                        ("matrix page, cold", cold[0]),
                        ("matrix page, p50", p50),
                        ("matrix page, p95", p95),
                        ("matrix page, max", worst)):  # fmt: skip
        _say(f"{name:34} {value:8.3f} {value / status if status else 0:8.2f}×")
    _say(f"\nratio p95 / status --json: {ratio:.2f}×; target ≤ {TARGET:g}×: "
         f"{'met' if ratio <= TARGET else 'missed'}")  # fmt: skip


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


if __name__ == "__main__":
    sys.exit(main())
