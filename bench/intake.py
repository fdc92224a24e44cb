"""Submissions per second end to end: a Maildir of replies stored, pre-checked, parsed in
isolated workers, validated and recorded, beside a pandas.read_excel loop over the same files.

    .venv/bin/python bench/intake.py [--units 1000] [--rows 50] [--batch 200] [--workers 2]
                                     [--rounds 3] [--phases] [--profile FILE]

A synthetic roster of N units on the example campaign (bench/mobilize.py's), registered in a
SQLite ledger; each unit's personalised plan template (built by duban, not sent: no SMTP) is
filled with ``--rows`` rows of Chinese text that pass validation, and the unit's reply, from its
registered address with the workbook attached, is delivered into a Maildir. None of that is
timed.

Timed, duban: ``open_source("maildir:…")``, ``WorkbookReader.for_campaign`` with ``--workers``
isolated workers (which pre-check, parse and validate), a ``RawStore``, and ``process_batch``
per batch of ``--batch`` messages, the batch marked ``done`` afterwards: what the collect flow runs,
except the answers (acknowledgements and rejections are sent by a separate stage after the
batch is recorded, and are not measured here). Afterwards every unit must have exactly one
accepted submission, or the benchmark fails. Timed, baseline: ``pandas.read_excel(…,
sheet_name=None, engine="openpyxl")`` over the same workbook bytes, taken out of the same
messages before the clock starts. The ratio of the two is what counts on a noisy machine; the
two run alternately ``--rounds`` times (each duban round on a fresh copy of the Maildir and
ledger), and the best run of each side is reported, as ``timeit`` takes the minimum: noise only
ever slows a run down.

Each stage runs in a process of its own, started from a small parent, so each peak resident
set is its own: on Linux a child's ``ru_maxrss`` starts at the size of the process that
started it (the high-water mark survives ``exec``). For the same reason the workers' figure
from ``RUSAGE_CHILDREN`` is at least the intake process's size when it started them; each
worker's own ``VmHWM`` is printed beside it; the memory target is judged on the larger
``getrusage`` figure, which can only overstate. ``--phases`` times the steps of
``process_batch`` (by wrapping them); ``--profile`` writes a cProfile of the timed stage.
Targets (issue "Collect"): ≥ 300 submissions/s with parsing isolated, ≥ 4× the pandas loop,
peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_RATE = 300.0
TARGET_RATIO = 4.0
TARGET_MB = 300.0
SECRET = b"bench secret, long enough for HMAC"
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # notices planned
ON_TIME = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # replies arrive (the plan is due on 5 March)
COLLECTED = datetime(2026, 3, 6, 1, 0, tzinfo=UTC)  # intake runs
SHEET = "实施方案"
CATEGORIES = ("教育培训", "提速增效", "执行力强化", "重点项目推进", "作风整顿")
TASKS = (
    "组织开展“能力作风建设提升年”专题学习",
    "优化行政审批流程，压缩办理时限",
    "建立重点项目领导挂钩联系制度",
    "开展机关作风明察暗访",
    "推行首问负责制和限时办结制",
    "开展干部业务能力轮训",
    "梳理权责清单并向社会公开",
    "推进政务服务“一网通办”",
)
MEASURES = (
    "制定年度学习计划，每月组织集中学习不少于一次，建立学习台账，年底开展学习成效测评。",
    "对照办事指南逐项梳理申报材料，取消无法定依据的证明事项，办理时限压缩百分之三十以上。",
    "班子成员每人挂钩一个重点项目，每季度现场调研一次，协调解决项目推进中的困难和问题。",
    "组成督查组不定期开展明察暗访，发现问题及时通报，督促整改到位，并纳入年度考核。",
    "在服务窗口公开首问责任人和办结时限，群众来访来电一次性告知所需材料，超时件逐件说明。",
    "分批次组织科室负责人和业务骨干参加专题培训，培训结束后进行考试，成绩记入个人档案。",
)
SECTIONS = ("办公室", "组织人事科", "综合科", "政策法规科", "行政审批科", "督查室")
OWNERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
PHASES = (  # --phases: (module, function, label), in the order process_batch runs them
    ("duban.implement.intake.pipeline", "read_envelope", "· envelope (read_envelope: headers)"),
    ("duban.implement.intake.pipeline", "receive", "· receive (store + record messages)"),
    ("duban.implement.intake.pipeline", "record_files", "· files (MIME, sniff, store + record)"),
    ("duban.implement.intake.candidates", "read_files", "  ·· MIME parse (read_files, in files)"),
    (
        "duban.implement.intake.rawstore",
        "RawStore.put_many",
        "  ·· raw store (in receive and files)",
    ),
    (
        "duban.implement.intake.pipeline",
        "_decide",
        "· decide (as the workers read; waits included)",
    ),
    ("duban.implement.intake.reader", "Reading.poll", "  ·· feeding and waiting for the workers"),
    (
        "duban.implement.intake.submitting",
        "validate_workbook",
        "  ·· validate_workbook here (the workers validate)",
    ),
)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.stage is not None:
        return STAGES[args.stage](args, Path(args.work))
    with tempfile.TemporaryDirectory(prefix="duban-bench-intake-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        prepared = _run_stage("prepare", base, argv)
        rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for number in range(args.rounds):  # alternately, so both sides see the same noise
            work = Path(tmp) / f"round-{number + 1}"
            shutil.copytree(base, work)  # a fresh Maildir and ledger each round, not timed
            duban = _run_stage("duban", work, argv)
            shutil.rmtree(work / "raw", ignore_errors=True)
            rounds.append((duban, _run_stage("pandas", base, argv)))
    _report(args, prepared, rounds)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=1000, help="units, one reply each")
    parser.add_argument("--rows", type=int, default=50, help="rows filled in each workbook")
    parser.add_argument("--batch", type=int, default=200, help="messages per process_batch")
    parser.add_argument("--workers", type=int, default=2, help="isolated reader processes")
    parser.add_argument(
        "--rounds", type=int, default=3, help="duban and pandas alternately, best of each"
    )
    parser.add_argument("--profile", help="write a cProfile of the timed duban stage here")
    parser.add_argument(
        "--phases", action="store_true", help="time process_batch's steps (wraps them)"
    )
    parser.add_argument("--stage", choices=("prepare", "duban", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run_stage(stage: str, work: Path, argv: list[str] | None) -> dict[str, Any]:
    """One stage in a fresh interpreter; its figures come back in ``work/STAGE.json``."""
    own = list(sys.argv[1:] if argv is None else argv)
    command = [sys.executable, str(Path(__file__).resolve()), *own]
    done = subprocess.run([*command, "--stage", stage, "--work", str(work)], check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark stage {stage!r} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads((work / f"{stage}.json").read_text(encoding="utf-8"))
    return result


# --- stage 1: the replies (not timed) -------------------------------------------------------


def _prepare(args: argparse.Namespace, work: Path) -> int:
    import email
    import email.policy
    import mailbox
    from concurrent.futures import ProcessPoolExecutor
    from email.message import EmailMessage

    from mobilize import synthetic_campaign  # bench/mobilize.py: this script's folder

    from duban.adapters.mail.message import build
    from duban.adapters.render import environment
    from duban.clock import FixedClock
    from duban.ledger.db import make_engine, migrate, session_scope
    from duban.ledger.store import register
    from duban.mobilize.notices import notice_drafts
    from duban.mobilize.send import NoticeRequest, instances_by_id, plan_notices
    from duban.model.loader import load_campaign
    from duban.testing.helpers import attachment_of, reply_to_notice

    started = time.perf_counter()
    bundle = load_campaign(synthetic_campaign(work / "campaign", args.units))
    engine = make_engine(_ledger_url(work))
    migrate(engine)
    clock, env = FixedClock(NOW), environment()
    notices: list[tuple[str, EmailMessage]] = []
    with session_scope(engine) as session:
        register(session, bundle, clock)
        plan = plan_notices(
            session, bundle, NoticeRequest("plan"), clock=clock, secret=SECRET, env=env
        )
        # only the synthetic units reply: exactly N submissions (the example's B units stay)
        instances = [
            i for i in instances_by_id(session, plan.instance_ids) if i.unit_id.startswith("U")
        ]
        for draft in notice_drafts(bundle, instances, secret=SECRET, env=env, now=NOW):
            unit_id = _unit_of(draft.recipients, bundle)
            wire = build(draft.compose(f"<notice-{unit_id}@jt.example>")).as_bytes()
            notice = email.message_from_bytes(wire, policy=email.policy.default)
            assert isinstance(notice, EmailMessage)
            notices.append((unit_id, notice))
    engine.dispose()
    if len(notices) != args.units:
        raise SystemExit(f"expected {args.units} plan notices, built {len(notices)}")

    templates = [attachment_of(notice) for _, notice in notices]
    indexes = [int(unit_id[1:]) for unit_id, _ in notices]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        filled = list(
            pool.map(_fill, [data for _, data in templates], indexes,
                     [args.rows] * len(indexes), chunksize=25)
        )  # fmt: skip

    box = mailbox.Maildir(work / "maildir", create=True)
    sizes = []
    for n, ((unit_id, notice), (name, _), workbook) in enumerate(
        zip(notices, templates, filled, strict=True)
    ):
        sender = str(bundle.units_by_id[unit_id].emails[0])
        when = ON_TIME + timedelta(seconds=n)
        raw = reply_to_notice(notice, sender, [(name, workbook)], when=when)
        key = box.add(raw)
        os.utime(work / "maildir" / "new" / key, (when.timestamp(), when.timestamp()))
        sizes.append(len(raw))
    _write(work, "prepare", {
        "count": len(filled),
        "workbook_kb": sum(map(len, filled)) / len(filled) / 1024,
        "message_kb": sum(sizes) / len(sizes) / 1024,
        "seconds": time.perf_counter() - started,
        "filesystem": _filesystem(work),
    })  # fmt: skip
    return 0


def _unit_of(recipients: tuple[str, ...], bundle: Any) -> str:
    """The unit a notice goes to, by its addresses."""
    return str(next(u.id for u in bundle.units if {str(e) for e in u.emails} == set(recipients)))


def _fill(template: bytes, unit: int, count: int) -> bytes:
    from duban.testing.helpers import fill_workbook

    return fill_workbook(template, SHEET, _rows(unit, count))


def _rows(unit: int, count: int) -> list[list[str]]:
    """A unit's plan: ``count`` rows × the form's 7 columns, every value valid."""
    rows = []
    for n in range(count):
        k = unit + n
        rows.append([
            CATEGORIES[k % len(CATEGORIES)],
            f"{TASKS[k % len(TASKS)]}（第{n + 1}项）",
            MEASURES[(unit * 3 + n) % len(MEASURES)],
            SECTIONS[k % len(SECTIONS)],
            OWNERS[(unit * 7 + n) % len(OWNERS)],
            f"138{unit % 10_000:04d}{n:04d}",
            f"2026-{3 + n % 10:02d}-{1 + k % 28:02d}",
        ])  # fmt: skip
    return rows


# --- stage 2: duban's intake (timed) --------------------------------------------------------


def _duban(args: argparse.Namespace, work: Path) -> int:
    from collections import Counter

    from duban.adapters.sources import open_source
    from duban.clock import FixedClock
    from duban.implement.intake.pipeline import Intake, process_batch
    from duban.implement.intake.rawstore import RawStore
    from duban.implement.intake.reader import WorkbookReader
    from duban.ledger.db import make_engine
    from duban.ledger.db import session_scope as scope
    from duban.model.loader import load_campaign

    bundle = load_campaign(work / "campaign" / "campaign.yaml")
    engine = make_engine(_ledger_url(work))
    spent = Counter[str]()
    outcomes = Counter[str]()
    if args.phases:
        _time_phases(spent)
    profiler = _profiler(args.profile)

    cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    started = time.perf_counter()
    source = open_source(f"maildir:{work / 'maildir'}")
    try:
        reader = WorkbookReader.for_campaign(bundle.campaign, args.workers)
        with reader, scope(engine) as session:
            spent["start readers"] = time.perf_counter() - started
            intake = Intake(bundle, RawStore(work / "raw"), reader, SECRET, FixedClock(COLLECTED))
            while True:
                mark = time.perf_counter()
                items = list(source.fetch(args.batch))
                mark = _lap(spent, "fetch", mark)
                if not items:
                    break
                report = process_batch(session, intake, items)
                mark = _lap(spent, "process_batch", mark)
                source.done_many([item.ref for item in items])
                _lap(spent, "done", mark)
                outcomes.update(report.outcomes)
            workers_hwm = [_hwm_mb(pid) for pid in reader.worker_pids]
    finally:
        source.close()
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu_before
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)

    own_rss, children_rss = _maxrss_mb()
    received = sum(outcomes.values())
    _verify(engine, args.units, received)
    engine.dispose()
    _write(work, "duban", {
        "count": received,
        "seconds": elapsed,
        "rate": received / elapsed,
        "spent": dict(spent),
        "cpu_own": cpu,
        "cpu_workers": _cpu_seconds(resource.RUSAGE_CHILDREN),
        "outcomes": dict(outcomes),
        "own_maxrss_mb": own_rss,
        "own_hwm_mb": _hwm_mb("self"),
        "children_maxrss_mb": children_rss,
        "workers_hwm_mb": workers_hwm,
        "profiled": profiler is not None,
    })  # fmt: skip
    return 0


def _lap(spent: dict[str, float], name: str, mark: float) -> float:
    now = time.perf_counter()
    spent[name] = spent.get(name, 0.0) + now - mark
    return now


def _time_phases(spent: dict[str, float]) -> None:
    """Wrap the steps ``process_batch`` calls (looked up in their modules at each call) with
    timers: a microsecond per call, where cProfile slows pure-Python steps far more than C."""
    import importlib

    for module, name, label in PHASES:
        owner: Any = importlib.import_module(module)
        if "." in name:
            class_name, name = name.split(".")
            owner = getattr(owner, class_name)
        setattr(owner, name, _timed(getattr(owner, name), label, spent))


def _timed(function: Callable[..., Any], label: str, spent: dict[str, float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

    return timed


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _profiler(path: str | None) -> Any:
    if path is None:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _verify(engine: Any, units: int, received: int) -> None:
    """Every unit exactly one accepted submission, every message accepted: else fail loudly."""
    from collections import Counter

    from sqlalchemy import select

    from duban.ledger.db import session_scope
    from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow

    with session_scope(engine) as session:
        statuses = Counter(session.scalars(select(IntakeRow.status)))
        per_unit = Counter(
            session.scalars(
                select(InstanceRow.unit_id).join(
                    SubmissionRow, SubmissionRow.instance_id == InstanceRow.id
                )
            )
        )
        failures = session.execute(
            select(IntakeRow.source_ref, IntakeRow.status, IntakeRow.reason, IntakeFileRow.problems)
            .join(IntakeFileRow, IntakeFileRow.intake_id == IntakeRow.id, isouter=True)
            .where(IntakeRow.status != "accepted")
            .limit(5)
        ).all()
    expected = {f"U{n:05d}" for n in range(units)}
    wrong = [u for u in sorted(expected | set(per_unit)) if per_unit.get(u, 0) != 1 or
             u not in expected]  # fmt: skip
    if received != units or statuses != Counter({"accepted": units}) or wrong:
        lines = [
            f"intake did not accept every reply: {received} received of {units}, "
            f"statuses {dict(statuses)}, {len(wrong)} units without exactly one submission "
            f"(first: {wrong[:5]})",
            *(f"  {ref}: {status} {reason} {str(problems)[:300]}"
              for ref, status, reason, problems in failures),
        ]  # fmt: skip
        raise SystemExit("\n".join(lines))


# --- stage 3: the pandas loop (timed) -------------------------------------------------------


def _pandas(args: argparse.Namespace, work: Path) -> int:
    import email
    import email.policy
    import io
    import mailbox

    import pandas  # type: ignore[import-untyped, import-not-found, unused-ignore]

    from duban.testing.helpers import attachment_of

    files = []
    root = mailbox.Maildir(work / "maildir", create=False)
    for box in [root, *(root.get_folder(name) for name in root.list_folders())]:
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            files.append(attachment_of(message)[1])  # type: ignore[arg-type]
    if len(files) != args.units:
        raise SystemExit(f"found {len(files)} workbooks in the Maildir, expected {args.units}")

    started = time.perf_counter()
    for data in files:
        frames = pandas.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl")
    elapsed = time.perf_counter() - started

    rows = len(frames[SHEET])
    if rows < args.rows:
        raise SystemExit(f"pandas read {rows} rows of {SHEET}, expected at least {args.rows}")
    own_rss, _ = _maxrss_mb()
    _write(work, "pandas", {
        "count": len(files),
        "seconds": elapsed,
        "rate": len(files) / elapsed,
        "version": pandas.__version__,
        "own_maxrss_mb": own_rss,
        "own_hwm_mb": _hwm_mb("self"),
    })  # fmt: skip
    return 0


STAGES: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "prepare": _prepare,
    "duban": _duban,
    "pandas": _pandas,
}


# --- helpers and the report -----------------------------------------------------------------


def _ledger_url(work: Path) -> str:
    return f"sqlite:///{work / 'ledger.sqlite3'}"


def _write(work: Path, stage: str, figures: dict[str, Any]) -> None:
    (work / f"{stage}.json").write_text(json.dumps(figures), encoding="utf-8")


def _maxrss_mb() -> tuple[float, float]:
    """Peak resident set (KB on Linux) of this process and of its largest waited-for child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _hwm_mb(pid: int | str) -> float:
    """A live process's own peak resident set (``VmHWM``), in MB; 0 where it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _filesystem(path: Path) -> str:
    """The type of the file system holding ``path`` (fsync costs differ a lot)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return "?"
    best, kind = "", "?"
    for line in mounts:
        fields = line.split()
        point = fields[1]
        inside = str(path).startswith(point.rstrip("/") + "/") or str(path) == point
        if len(fields) > 2 and inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def _report(
    args: argparse.Namespace,
    prepared: dict[str, Any],
    rounds: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Each round's figures, then the best of each side (the least disturbed run, as timeit
    takes the minimum), which the targets are judged on."""
    say = print
    say(f"prepared {prepared['count']} replies ({args.rows} rows × 7 columns; workbook "
        f"{prepared['workbook_kb']:.1f} KB, message {prepared['message_kb']:.1f} KB) in "
        f"{prepared['seconds']:.0f} s, not timed; work folder on {prepared['filesystem']} "
        "(fsync)")  # fmt: skip
    for number, (duban, pandas) in enumerate(rounds, start=1):
        paired = duban["rate"] / pandas["rate"]
        say(f"round {number}: duban {duban['rate']:6.1f} submissions/s, pandas "
            f"{pandas['rate']:5.1f} files/s, ratio {paired:.1f}×")  # fmt: skip
    duban = max((d for d, _ in rounds), key=lambda figures: figures["rate"])
    pandas = max((p for _, p in rounds), key=lambda figures: figures["rate"])
    rate, baseline = duban["rate"], pandas["rate"]
    ratio = rate / baseline
    workers = duban["workers_hwm_mb"]
    peak = max(max(d["own_maxrss_mb"], d["children_maxrss_mb"]) for d, _ in rounds)
    say(f"best of {len(rounds)}:")
    say(f"duban intake   {duban['count']:6d} submissions  {duban['seconds']:6.2f} s  "
        f"{rate:7.1f} submissions/s  (Maildir → store, pre-check, {args.workers} isolated "
        f"workers, validate, ledger; batches of {args.batch})")  # fmt: skip
    order = ["start readers", "fetch", "process_batch", *(p[2] for p in PHASES), "done"]
    for name in order:
        if name in duban["spent"]:
            seconds = duban["spent"][name]
            say(f"  {name:<44} {seconds:6.2f} s  {1000 * seconds / duban['count']:5.2f} ms/item")
    say(f"  CPU: intake process {duban['cpu_own']:.2f} s, workers {duban['cpu_workers']:.2f} s, "
        f"in {duban['seconds']:.2f} s on {os.cpu_count()} cores")  # fmt: skip
    say(f"pandas loop    {pandas['count']:6d} files        {pandas['seconds']:6.2f} s  "
        f"{baseline:7.1f} files/s        (pandas {pandas['version']} read_excel, "
        f"sheet_name=None, engine=openpyxl; read only)")  # fmt: skip
    say("answers (acknowledgements, rejections) are a separate stage of collect: not sent here")
    say(f"ratio duban / pandas: {ratio:.1f}×")
    say(f"peak RSS: intake process {duban['own_maxrss_mb']:.0f} MB (VmHWM "
        f"{duban['own_hwm_mb']:.0f}); workers {duban['children_maxrss_mb']:.0f} MB by "
        f"RUSAGE_CHILDREN (own VmHWM {', '.join(f'{mb:.0f}' for mb in workers)} MB); "
        f"pandas process {pandas['own_maxrss_mb']:.0f} MB")  # fmt: skip
    if duban["profiled"]:
        say(f"(profiled: the duban figures include cProfile's overhead; stats in {args.profile})")
    say(f"targets: ≥ {TARGET_RATE:.0f} submissions/s {_ok(rate >= TARGET_RATE)}, "
        f"≥ {TARGET_RATIO:.0f}× pandas {_ok(ratio >= TARGET_RATIO)}, "
        f"< {TARGET_MB:.0f} MB per process {_ok(peak < TARGET_MB)}")  # fmt: skip


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
