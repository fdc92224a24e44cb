"""Operate: a Prefect server on PostgreSQL, the deployments of prefect.yaml, two workers, and
two collect runs at once over one mailbox, with the ledger on PostgreSQL too."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from sqlalchemy import select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import IntakeRow, MessageRow, SubmissionRow
from duban.ledger.store import register
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.loader import CampaignBundle
from duban.testing.helpers import (
    attachment_of,
    fill_workbook,
    reply_to_notice,
    temporary_postgres_database,
)
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import POSTGRES_ADMIN_URL, ROOT

pytestmark = pytest.mark.postgres
SECRET = "operate test secret, long enough"
USER, PASSWORD = "youhuaban", "operate-pass"
REPLIES = 3
"""Replies per unit (each a new version): 90 messages, enough to keep two workers busy."""


RETRYABLE = (429, 502, 503)


def call_api(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A call to the Prefect server, retried as Prefect's own client retries it: 429, 502 and
    503 mean "try again" (the server answers 503 for a retryable error, such as SQLite's
    "database is locked" while another request writes; the whole suite running makes it
    likely). Not a timing assertion: the pause only spaces the attempts."""
    response = httpx.request(method, url, timeout=10, **kwargs)
    for attempt in range(8):
        if response.status_code not in RETRYABLE:
            break
        time.sleep(min(0.25 * 2**attempt, 5))
        response = httpx.request(method, url, timeout=10, **kwargs)
    return response


def _rows(reply: int) -> list[list[str]]:
    return [
        ["教育培训", f"任务{reply}-{n}", "措施", "办公室", "张三", "13800000000", "2026-06-30"]
        for n in range(3)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prefect_on_postgres() -> Iterator[dict[str, str]]:
    """`prefect server start` against a fresh PostgreSQL database (with pg_trgm)."""
    with temporary_postgres_database(POSTGRES_ADMIN_URL) as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(
            POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", autocommit=True
        ) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        database = {"PREFECT_API_DATABASE_CONNECTION_URL": url.replace("+psycopg", "+asyncpg")}
        with prefect_server(database) as env:
            yield env


@contextmanager
def prefect_server(extra: dict[str, str]) -> Iterator[dict[str, str]]:
    """`prefect server start` in a home of its own (its database: SQLite there, unless
    ``extra`` names another); the environment that reaches it."""
    home = Path(tempfile.mkdtemp(prefix="duban-prefect-server-"))
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        **extra,
    }
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(api, server, home / "server.log")
        yield {**env, "PREFECT_API_URL": api}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def _wait_healthy(api: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"prefect server did not answer:\n{log.read_text()[-3000:]}")


def prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "prefect", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def imap() -> Iterator[LocalImapServer]:
    folder = Path(tempfile.mkdtemp(prefix="duban-operate-"))
    folder.chmod(0o711)
    try:
        with LocalImapServer(folder, {USER: PASSWORD}) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_collect_one_mailbox_exactly_once(
    prefect_on_postgres: dict[str, str],
    imap: LocalImapServer,
    example_bundle: CampaignBundle,
    tmp_path: Path,
) -> None:
    with temporary_postgres_database(POSTGRES_ADMIN_URL) as ledger, LocalSmtpServer() as smtp:
        engine = make_engine(ledger)
        migrate(engine)
        clock = FixedClock(datetime(2026, 2, 10, 1, 0, tzinfo=UTC))
        with session_scope(engine) as session:
            register(session, example_bundle, clock)
            plan = plan_notices(session, example_bundle, NoticeRequest("plan"), clock=clock,
                                secret=SECRET.encode(), env=environment())  # fmt: skip
            with SmtpMailer(parse_smtp_url(smtp.url())) as mailer:
                send_notices(session, example_bundle, plan.instance_ids, mailer=mailer,
                             clock=clock, secret=SECRET.encode(), env=environment())  # fmt: skip
        delivered = _replies_into_imap(smtp, example_bundle, imap)
        env = {
            **prefect_on_postgres,
            "DUBAN_PROJECT_DIR": str(ROOT),
            "DUBAN_DATABASE_URL": ledger,
            "DUBAN_HOME": str(tmp_path / "home"),
            "DUBAN_SECRET": SECRET,
            "DUBAN_SMTP_URL": smtp.url(),
            "DUBAN_INTAKE": imap.url(USER, PASSWORD),
            "DUBAN_NOW": "2026-03-04T18:00",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        prefect(env, "work-pool", "create", "duban", "--type", "process")
        out = prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file",
                      str(_unscheduled(tmp_path)))  # fmt: skip
        assert "collect/collect" in out
        assert _active_schedules(env) == []  # no scheduled run can join the test
        workers = [_worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
        try:
            time.sleep(3)  # both workers polling
            # Both runs are created within milliseconds (over the API, not two CLI calls of a
            # few seconds each), so with --limit 1 each worker takes one and they start together;
            # the mailbox holds enough one-message batches to keep both busy for a while, and
            # max_batches lets each run drain it (the other's races take some of its batches).
            runs = _runs(env, "collect/collect", 2, batch_size=1, max_batches=500)
            states = [_wait_run(env, run) for run in runs]
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGKILL)
        assert states == ["COMPLETED", "COMPLETED"], _logs(tmp_path)
        assert _run_count(env) == 2
        took = [int(n) for n in re.findall(r"collected \{'received': (\d+)", _logs(tmp_path))]
        assert len(took) == 2
        assert all(n > 0 for n in took), took  # both workers took messages at the same time
        with session_scope(engine) as session:
            intakes = session.scalars(select(IntakeRow)).all()
            submissions = session.scalars(select(SubmissionRow)).all()
            answers = session.scalars(select(MessageRow).where(MessageRow.kind == "ack")).all()
        assert len(intakes) == delivered
        assert len({i.source_ref for i in intakes}) == delivered
        assert Counter(i.status for i in intakes) == {"accepted": delivered}
        assert len(submissions) == delivered
        assert len(answers) == delivered
        acks = [d for d in smtp.messages if b"X-Duban-Key: answer:" in d.raw]
        assert len(acks) == delivered  # nobody acknowledged twice
        engine.dispose()


def _unscheduled(folder: Path) -> Path:
    """prefect.yaml with every schedule inactive: a `*/10` collect schedule crossing a boundary
    during the test would add a third run (it did once: runs took [75, 90, 0])."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in spec["deployments"]:
        for schedule in deployment.get("schedules") or []:
            schedule["active"] = False
    path = folder / "prefect.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def _active_schedules(env: dict[str, str]) -> list[str]:
    """Names of the deployments that have an active schedule."""
    api = env["PREFECT_API_URL"]
    deployments = call_api("POST", f"{api}/deployments/filter", json={}).json()
    return [d["name"] for d in deployments if any(s["active"] for s in d.get("schedules") or [])]


def _run_count(env: dict[str, str]) -> int:
    """Flow runs on the server, whatever created them."""
    api = env["PREFECT_API_URL"]
    return int(call_api("POST", f"{api}/flow_runs/count", json={}).json())


def _replies_into_imap(smtp: LocalSmtpServer, bundle: CampaignBundle, imap: LocalImapServer) -> int:
    import email
    import email.policy
    from email.message import EmailMessage

    count = 0
    for delivery in list(smtp.messages):
        notice = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(notice, EmailMessage)
        unit = next(u for u in bundle.units if set(u.emails) == set(delivery.rcpt_tos))
        name, data = attachment_of(notice)
        for reply in range(REPLIES):
            filled = fill_workbook(data, "实施方案", _rows(reply))
            imap.deliver(USER, reply_to_notice(notice, unit.emails[0], [(name, filled)]))
            count += 1
    return count


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "duban", "--limit", "1"],
        env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _runs(env: dict[str, str], deployment: str, count: int, **parameters: Any) -> list[str]:
    """Create ``count`` runs of a deployment back to back; their names."""
    api = env["PREFECT_API_URL"]
    found = call_api("GET", f"{api}/deployments/name/{deployment}")
    found.raise_for_status()
    url = f"{api}/deployments/{found.json()['id']}/create_flow_run"
    names = []
    for _ in range(count):
        created = call_api("POST", url, json={"parameters": parameters})
        created.raise_for_status()
        names.append(str(created.json()["name"]))
    return names


def _wait_run(env: dict[str, str], flow_run: str) -> str:
    api = env["PREFECT_API_URL"]
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        query = {"flow_runs": {"name": {"any_": [flow_run]}}}
        runs = call_api("POST", f"{api}/flow_runs/filter", json=query).json()
        if runs and runs[0]["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return str(runs[0]["state_type"])
        time.sleep(1)
    return "TIMEOUT"


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in folder.glob("worker*.log"))
