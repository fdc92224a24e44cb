#!/usr/bin/env python3
"""The plan phase's round twice: as the CLI commands, and as flow runs of duban's deployments.

    .venv/bin/python bench/round_prefect.py [--units 1000] [--rows 50] [--poll 10]

Issue 20, item 3: Prefect's share of a round run through the deployments. Two fresh, identical
environments, each as bench/round makes one (a synthetic campaign of N units, a Maildir, a
fresh bench/smtp_sink.py for every stage, the simulated clock ``DUBAN_NOW``), each set up by
``duban init`` from the command line; then every stage of the plan phase that has a deployment,
in each environment in turn (the direct run first, then Prefect's, stage by stage, so that both
see the machine in the same state):

    mobilize        mobilize/mobilize  deliverable=plan
    (setup)         the replies (bench/round's step, in each environment: they answer its
                    notices' Message-IDs)
    collect         collect/collect
    chase           chase/chase
    (setup)         the late replies arrive
    collect (late)  collect/collect
    compile         compile/compile    deliverable=plan, send=false
    bulletin        compile/compile    deliverable=plan, send=true

(a) directly, as bench/round runs it: ``python -m duban …`` in a child process; (b) as a flow
run of the deployment on a real Prefect server started here (``prefect server start`` on a free
loopback port, a temporary ``PREFECT_HOME`` and SQLite database, analytics and the scheduler
off: the deployments' cron schedules must not start runs of their own), a process work pool
``duban``, the deployments of prefect.yaml registered by ``prefect deploy --all`` from a copy
of it in the temporary folder (the four deployments used, no schedules, the pull step's working
directory this checkout), and two ``prefect worker start --pool duban`` processes. Each run is
created through the server's REST API (as the UI's *Run* button does) with the stage's settings
as job variables, ``{"env": {...}}``: the same ``DUBAN_*`` the direct command gets (the ledger,
the home, the clock, the sink's port, which differs per stage) and ``DUBAN_CAMPAIGN``, which a
coordinator's work pool names. It is timed from the request until the run reaches a final state
(polled every 0.25 s, bounded).

Prefect's share of a stage is (through Prefect − direct) / through Prefect. Part of it is the
workers' polling: a worker asks for runs every ``PREFECT_WORKER_QUERY_SECONDS`` (Prefect's
default 10 s; ``--poll``), so a run waits 0–10 s before a worker takes it. The table shows,
through Prefect, the seconds from the request until a worker took the run (``taken``: it left
SCHEDULED) and until it was running (``running``: the flow-run process started, Prefect
imported, the pull step run, the flow loaded). A busy server's 503 is tried again, as
Prefect's client does. Peak memory: the direct command's ``ru_maxrss`` (bench/round's way); the
server's and the workers' ``VmHWM`` at the end, and the flow-run processes' (with their
children) sampled while each run is polled.

Exits 1 when a stage fails, a run does not finish in time, or the ledger's counts or the sink's
differ between the two environments (or from what bench/round's own checks expect of the direct
run's collect). Like bench/round, this process imports only the standard library (a child's
``ru_maxrss`` starts at its parent's high-water mark) and talks to Prefect by its REST API.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.machinery import SourceFileLoader
from pathlib import Path
from typing import Any


def _load_round() -> Any:
    """bench/round (a script without a suffix) as a module: its stages' moments, the sink, the
    steps (prepare, replies, check) and its way of running a command."""
    path = Path(__file__).resolve().with_name("round")
    loader = SourceFileLoader("bench_round", str(path))
    spec = importlib.util.spec_from_loader("bench_round", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_round"] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


base = _load_round()
ROOT = base.ROOT
PREFECT = Path(sys.executable).with_name("prefect")
DEPLOYMENTS = ("mobilize", "collect", "chase", "compile")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
POLL = 0.25
"""Seconds between two looks at a flow run's state (the time's resolution)."""
RETRIES = (1.0, 2.0, 4.0, 8.0, 16.0)
"""Waits before trying a busy server again (Prefect's client: 5 retries, backing off)."""
COMPARED = ("units", "instances", "messages", "intake", "submissions", "compiled_rows")
"""The ledger's counts that must be the same after each stage in both environments."""


class BenchError(Exception):
    """A stage failed, a run did not finish, or the two environments counted differently."""


@dataclass(frozen=True)
class Stage:
    """One stage: its command line (after the campaign's path), its moment, its deployment
    and the parameters that say the same as the options."""

    title: str
    command: tuple[str, ...]
    options: tuple[str, ...]
    at: str
    deployment: str
    parameters: dict[str, Any] = field(default_factory=dict)


PLAN = {"deliverable": base.DELIVERABLE}
STAGES = (
    Stage("mobilize", ("mobilize",), ("--deliverable", base.DELIVERABLE), base.MOBILIZE_AT,
          "mobilize/mobilize", PLAN),
    Stage("collect", ("collect",), (), base.COLLECT_AT, "collect/collect"),
    Stage("chase", ("chase",), (), base.CHASE_AT, "chase/chase"),
    Stage("collect (late)", ("collect",), (), base.COLLECT_LATE_AT, "collect/collect"),
    Stage("compile", ("compile",), ("--deliverable", base.DELIVERABLE), base.COMPILE_AT,
          "compile/compile", {**PLAN, "send": False}),
    Stage("bulletin", ("compile",), ("--deliverable", base.DELIVERABLE, "--send"),
          base.COMPILE_AT, "compile/compile", {**PLAN, "send": True}),
)  # fmt: skip
SETUP_AFTER = {"mobilize": "replies", "chase": "late"}
"""What happens between stages, in each environment: the replies made, the late ones
delivered."""


@dataclass
class Timed:
    """One stage in one environment: seconds, peak MB, what the sink received, the ledger's
    counts after it; through Prefect also the seconds until the run started."""

    seconds: float
    peak_mb: float
    received: int
    counts: dict[str, Any]
    to_start: float | None = None
    picked: float | None = None
    """Through Prefect, seconds until a worker took the run (left SCHEDULED)."""


@dataclass
class Server:
    """The Prefect server and its workers, as this script started them."""

    url: str
    home: Path
    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    """Deployment ids by ``flow/deployment``."""


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.units < 10:
        raise SystemExit("--units must be at least 10 (a share of 1 % needs someone to be in it)")
    started = time.perf_counter()
    results: list[tuple[Stage, Timed, Timed]] = []
    with ExitStack() as stack:
        direct = _environment(stack, args, "direct")
        through = _environment(stack, args, "prefect")
        try:
            server = stack.enter_context(_prefect(through.work, args.poll))
            _setup(direct)
            _setup(through)
            for stage in STAGES:
                plain = _direct(direct, stage)
                flowed = _through(through, server, stage)
                _compare(stage, plain, flowed)
                results.append((stage, plain, flowed))
                _line(stage, plain, flowed)
                for state in (direct, through):
                    _between(state, stage)
            memory = _server_memory(server)
        except (base.RoundError, urllib.error.URLError) as error:  # the server unreachable
            _report(args, results, {}, time.perf_counter() - started)
            base._say(f"\nFAILED: {error}")
            return 1
    _report(args, results, memory, time.perf_counter() - started)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=1000, help="synthetic units (≥ 10)")
    parser.add_argument("--rows", type=int, default=50, help="rows in each valid reply")
    parser.add_argument(
        "--poll",
        type=float,
        default=10.0,
        help="seconds between a worker's looks for runs (PREFECT_WORKER_QUERY_SECONDS; "
        "Prefect's default 10)",
    )
    return parser.parse_args(argv)


# --- the two environments -------------------------------------------------------------------


def _environment(stack: ExitStack, args: argparse.Namespace, name: str) -> Any:
    """A fresh folder and bench/round's state for it, its campaign prepared."""
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"duban-round-{name}-")))
    (work / "logs").mkdir()
    state = base.Round(work, args.units, args.rows, f"sqlite:///{work / 'home' / 'duban.sqlite3'}")
    prepared = base._step(work, "prepare", "prepare", "--units", str(args.units))[0]
    state.cert, state.campaign = Path(prepared["cert"]), Path(prepared["campaign"])
    base._write_config(state)
    return state


def _setup(state: Any) -> None:
    """``duban init`` from the command line, as bench/round starts its round (not timed)."""
    base._command(state, "init", ["init", str(state.campaign)], base.MOBILIZE_AT)
    state.figures["check"] = base._check(state, "init")


def _between(state: Any, stage: Stage) -> None:
    """The setup after a stage: the replies to its notices, or the late ones delivered."""
    what = SETUP_AFTER.get(stage.title)
    if what == "replies":
        made = base._step(state.work, "replies", "replies")[0]
        state.figures["replies"] = made
    elif what == "late":
        base._deliver_late(state)


def _direct(state: Any, stage: Stage) -> Timed:
    """The stage as bench/round runs it: the CLI command in a child process."""
    args = [*stage.command, str(state.campaign), *stage.options]
    with base._sink(state) as sink:
        run = base._command(state, stage.title, args, stage.at, sink.port)
    return _checked(state, stage, Timed(run.seconds, run.peak_mb, sink.received, {}))


def _through(state: Any, server: Server, stage: Stage) -> Timed:
    """The stage as a flow run of its deployment, its settings as job variables."""
    with base._sink(state) as sink:
        env = {k: v for k, v in state.env(stage.at, sink.port).items() if k.startswith("DUBAN_")}
        env["DUBAN_CAMPAIGN"] = str(state.campaign)
        timed = _flow_run(server, stage, env)
    timed.received = sink.received
    return _checked(state, stage, timed)


def _checked(state: Any, stage: Stage, timed: Timed) -> Timed:
    """The ledger's counts after the stage, kept for the comparison and the next stage."""
    label = "prefect" if timed.to_start is not None else "direct"
    after = base._check(state, f"{stage.title} {label}")
    state.figures["check"] = after
    timed.counts = {key: after[key] for key in COMPARED}
    return timed


def _compare(stage: Stage, plain: Timed, flowed: Timed) -> None:
    if plain.received != flowed.received or plain.counts != flowed.counts:
        raise base.RoundError(
            f"{stage.title}: the two runs differ: directly the sink received {plain.received}, "
            f"the ledger {plain.counts}; through Prefect {flowed.received}, {flowed.counts}"
        )
    if plain.received == 0 and stage.title != "compile":
        raise base.RoundError(f"{stage.title}: nothing reached the sink in either run")


# --- the Prefect server, its pool, deployments and workers ----------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _prefect_env(home: Path, url: str | None = None) -> dict[str, str]:
    """Offline and on its own: a temporary home and database, no analytics, no scheduler."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUBAN_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(home), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false", PREFECT_UI_ENABLED="false",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )  # fmt: skip
    if url is not None:
        env["PREFECT_API_URL"] = url
    return env


@contextmanager
def _prefect(work: Path, poll: float) -> Iterator[Server]:
    """A server on a free loopback port, the pool, the deployments and two workers; all
    stopped at the end, whatever happened."""
    home = work / "prefect"
    home.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=_prefect_env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = Server(url, home, process)
    try:
        _wait_healthy(server)
        _deploy(server)
        for n in (1, 2):
            server.workers.append(_worker(server, n, poll))
        yield server
    finally:
        for child in (*server.workers, process):
            _stop(child)
        log.close()


def _wait_healthy(server: Server, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.server.poll() is not None:
            log = base._tail(server.home / "server.log")
            raise base.RoundError(f"prefect server exited:\n{log}")
        try:
            _api(server, "GET", "/health")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise base.RoundError(f"prefect server not healthy in {limit:.0f} s")


def _cli(server: Server, *args: str, label: str) -> None:
    """A ``prefect`` command against the server, from the checkout (as a coordinator deploys)."""
    log = server.home / f"{label}.log"
    with log.open("wb") as output:
        done = subprocess.run(
            [str(PREFECT), "--no-prompt", *args], cwd=ROOT,
            env=_prefect_env(server.home, server.url), stdout=output, stderr=subprocess.STDOUT,
            timeout=600, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise base.RoundError(f"`prefect {' '.join(args)}` exited {done.returncode}:\n"
                              f"{base._tail(log)}")  # fmt: skip


def _deploy(server: Server) -> None:
    """The pool, and the deployments used here from a copy of prefect.yaml: no schedules (the
    scheduler is off anyway), the pull step's folder this checkout (no DUBAN_PROJECT_DIR)."""
    _cli(server, "work-pool", "create", "duban", "--type", "process", label="pool")
    copy = server.home / "prefect.yaml"
    made = subprocess.run([sys.executable, __file__, "--copy-prefect-file", str(copy)], check=False)
    if made.returncode != 0:
        raise base.RoundError("the copy of prefect.yaml could not be written")
    _cli(server, "deploy", "--all", "--prefect-file", str(copy), label="deploy")
    for name in DEPLOYMENTS:
        found = _api(server, "GET", f"/deployments/name/{name}/{name}")
        server.ids[f"{name}/{name}"] = str(found["id"])


def _copy_prefect_file(copy: Path) -> int:
    """The copy ``_deploy`` registers, written in a child process: PyYAML stays out of this
    one."""
    import yaml

    project = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    step = {"directory": str(ROOT)}
    project["pull"] = [{"prefect.deployments.steps.set_working_directory": step}]
    kept = [d for d in project["deployments"] if d["name"] in DEPLOYMENTS]
    for deployment in kept:
        deployment.pop("schedules", None)
    project["deployments"] = kept
    copy.write_text(yaml.safe_dump(project, allow_unicode=True), encoding="utf-8")
    return 0


def _worker(server: Server, n: int, poll: float) -> subprocess.Popen[bytes]:
    env = _prefect_env(server.home, server.url)
    env["PREFECT_WORKER_QUERY_SECONDS"] = f"{poll:g}"
    log = (server.home / f"worker-{n}.log").open("wb")
    return subprocess.Popen(
        [str(PREFECT), "worker", "start", "--pool", "duban", "--type", "process",
         "--name", f"bench-worker-{n}"],
        cwd=server.home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group this script started (a worker ignores the first one, as
    ../shared/NOTES.md says), SIGKILL after a bounded wait."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _api(server: Server, method: str, path: str, body: Any = None) -> Any:
    """One call to the server's REST API, tried again after a busy answer (503, 429: a loaded
    server's database timed out), as Prefect's own client does; a create carries an
    idempotency key, so a retried one is the same run."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    for wait in (*RETRIES, None):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
            return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            if error.code not in (429, 503) or wait is None:
                detail = error.read().decode(errors="replace")[:500]
                raise base.RoundError(f"{method} {path}: HTTP {error.code} {detail}") from None
        time.sleep(wait)
    raise AssertionError("unreachable")


def _flow_run(server: Server, stage: Stage, env: dict[str, str]) -> Timed:
    """Create the run, then poll until it is final: the seconds from the request to the end
    and to the run's start, and the flow-run processes' peak memory sampled meanwhile."""
    name = f"bench-{stage.title.replace(' ', '-').strip('()')}"
    body = {"parameters": stage.parameters, "job_variables": {"env": env}, "name": name,
            "idempotency_key": f"{name}-{time.time_ns()}"}  # fmt: skip
    deployment = server.ids[stage.deployment]
    started = time.perf_counter()
    run = _api(server, "POST", f"/deployments/{deployment}/create_flow_run", body)
    peak, to_start, picked = 0.0, None, None
    deadline = time.monotonic() + 1800
    while True:
        run = _api(server, "GET", f"/flow_runs/{run['id']}")
        state = run["state"]["type"]
        if picked is None and state != "SCHEDULED":
            picked = time.perf_counter() - started
        if to_start is None and state not in ("SCHEDULED", "PENDING"):
            to_start = time.perf_counter() - started
        if state in FINAL:
            break
        if time.monotonic() > deadline:
            raise base.RoundError(f"{stage.title}: the flow run is {state} after 30 minutes")
        peak = max(peak, _runs_memory(server))
        time.sleep(POLL)
    seconds = time.perf_counter() - started
    if state != "COMPLETED":
        message = run["state"].get("message") or ""
        raise base.RoundError(f"{stage.title}: the flow run ended {state}: {message}\n"
                              f"{_worker_logs(server)}")  # fmt: skip
    return Timed(seconds, peak, 0, {}, to_start or seconds, picked or seconds)


def _worker_logs(server: Server) -> str:
    return "\n".join(base._tail(server.home / f"worker-{n}.log", 15) for n in (1, 2))


# --- memory ---------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _hwm(pid: int) -> float:
    """A process's resident high-water mark in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _runs_memory(server: Server) -> float:
    """The largest flow-run process (or one of its children) the workers have now."""
    pids = [p for w in server.workers for c in _children(w.pid) for p in _tree(c)]
    return max((_hwm(p) for p in pids), default=0.0)


def _server_memory(server: Server) -> dict[str, float]:
    return {
        "server": max(_hwm(p) for p in _tree(server.server.pid)),
        "worker": max(_hwm(w.pid) for w in server.workers),
    }


# --- the report -----------------------------------------------------------------------------

WIDTH = max(len(stage.title) for stage in STAGES) + 1


def _share(direct: float, through: float) -> float:
    return (through - direct) / through if through else 0.0


def _line(stage: Stage, plain: Timed, flowed: Timed) -> None:
    base._say(f"{stage.title:<{WIDTH}} direct {plain.seconds:7.2f} s  through Prefect "
              f"{flowed.seconds:7.2f} s (taken after {flowed.picked or 0:.2f} s, running after "
              f"{flowed.to_start or 0:.2f} s)  "
              f"Prefect's share {_share(plain.seconds, flowed.seconds):6.1%}  "
              f"sink {plain.received}")  # fmt: skip


def _report(
    args: argparse.Namespace,
    results: list[tuple[Stage, Timed, Timed]],
    memory: dict[str, float],
    elapsed: float,
) -> None:
    base._say(f"\n=== the plan phase at {args.units:,} units ({args.rows} rows a reply), "
              f"directly and through Prefect (2 workers, polling every {args.poll:g} s)"
              )  # fmt: skip
    base._say(f"{'stage':<{WIDTH}} {'direct s':>9} {'Prefect s':>10} {'taken':>6} {'running':>8} "
              f"{'share':>7} {'direct MB':>10} {'run MB':>7}")  # fmt: skip
    for stage, plain, flowed in results:
        share = _share(plain.seconds, flowed.seconds)
        base._say(f"{stage.title:<{WIDTH}} {plain.seconds:9.2f} {flowed.seconds:10.2f} "
                  f"{flowed.picked or 0:6.2f} {flowed.to_start or 0:8.2f} {share:7.1%} "
                  f"{plain.peak_mb:10.0f} {flowed.peak_mb:7.0f}")  # fmt: skip
    direct = sum(plain.seconds for _, plain, _ in results)
    through = sum(flowed.seconds for _, _, flowed in results)
    waited = sum(flowed.picked or 0 for _, _, flowed in results)
    running = sum(flowed.to_start or 0 for _, _, flowed in results)
    base._say(f"{'whole':<{WIDTH}} {direct:9.2f} {through:10.2f} {waited:6.2f} {running:8.2f} "
              f"{_share(direct, through):7.1%}")  # fmt: skip
    if results:
        base._say(f"Prefect's share of the round: {_share(direct, through):.1%} (aim ≤ 25 %); "
                  f"Prefect added {through - direct:.1f} s, of which {waited:.1f} s waiting "
                  "for a worker to take the runs")  # fmt: skip
    if memory:
        base._say(f"peak memory: server {memory['server']:.0f} MB, each worker ≤ "
                  f"{memory['worker']:.0f} MB; flow runs (sampled) ≤ "
                  f"{max(f.peak_mb for _, _, f in results):.0f} MB")  # fmt: skip
    base._say(f"(the benchmark, setup and server included, took {elapsed:.0f} s)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--copy-prefect-file"]:
        sys.exit(_copy_prefect_file(Path(sys.argv[2])))
    sys.exit(main())
