"""The ``inspect`` deployment (issue 16, item 3) on a real Prefect server with a process worker:
started with parameters and no seed, it commits the round and suspends for the seed; resumed
with the seed through the API, it draws and suspends for the approval; resumed with the
approval, it writes the teams and sends each inspector their scoresheets over SMTP. The ledger
is checked after each step.

The worker runs without ``--limit``: Prefect 3.8.8's process worker with a limit crashed when
the same run came back a second time ("this borrower is already holding one of this
CapacityLimiter's tokens"), which a run that suspends twice does."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from duban.cli.app import app
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow, InspectionAssignmentRow, InspectionRoundRow
from duban.testing.mailserver import LocalSmtpServer
from flows.inspection import pause_key

from .conftest import EXAMPLE, ROOT
from .test_operate import _unscheduled, prefect
from .test_operate import prefect_server as running_prefect_server

SECRET = "inspect flow test secret, long enough"
SEED = "2026060112345"


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[dict[str, str]]:
    """`prefect server start` on its own SQLite database, for this module."""
    with running_prefect_server({}) as env:
        yield env


def start_run(api: str, **parameters: Any) -> str:
    found = httpx.get(f"{api}/deployments/name/inspect/inspect", timeout=10)
    found.raise_for_status()
    created = httpx.post(f"{api}/deployments/{found.json()['id']}/create_flow_run",
                         json={"parameters": parameters}, timeout=10)  # fmt: skip
    created.raise_for_status()
    return str(created.json()["id"])


def wait_for(api: str, run_id: str, wanted: str, ready: Any = lambda: True) -> dict[str, Any]:
    """Poll the run until its state type is ``wanted`` and ``ready()`` holds (no timing
    assertion: the deadline only stops a hung test)."""
    deadline = time.monotonic() + 300
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        state = run.get("state") or {}
        if state.get("type") in ("FAILED", "CRASHED", "CANCELLED"):
            pytest.fail(f"the run ended {state}")
        if state.get("type") == wanted and ready():
            return run
        time.sleep(1)
    pytest.fail(f"the run did not reach {wanted}: {run.get('state')}")


def resume(api: str, run_id: str, step: str, run_input: dict[str, Any]) -> None:
    """Resume the suspended run once its input form is on the server (the flow saves the
    form's schema just after it suspends: a resume before that is refused)."""
    key = pause_key(step, "2026-Q2")
    wait_for(api, run_id, "PAUSED", lambda: httpx.get(
        f"{api}/flow_runs/{run_id}/input/suspended-{key}-schema", timeout=10
    ).status_code == 200)  # fmt: skip
    done = httpx.post(f"{api}/flow_runs/{run_id}/resume", json={"run_input": run_input},
                      timeout=10)  # fmt: skip
    done.raise_for_status()
    assert done.json()["status"] == "ACCEPT", done.json()


def round_state(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return session.scalar(select(InspectionRoundRow.state))
    finally:
        engine.dispose()


def test_the_inspect_deployment_waits_for_the_seed_and_the_approval(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    with LocalSmtpServer() as smtp:
        _walk_the_round(prefect_server, tmp_path, smtp.url())
        messages = list(smtp.messages)
    by_inspector = {tuple(m.rcpt_tos): m for m in messages if b":inspector:" in m.raw}
    sheets = 0
    for delivery in by_inspector.values():
        parsed = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        names = [part.get_filename() or "" for part in parsed.iter_attachments()]
        assert all(name.startswith("督查评分表-") and name.endswith(".xlsx") for name in names)
        sheets += len(names)
    assert sheets == 3 * 2 * 2  # every unit drawn (3 a stratum, 2 strata), one per member


def _walk_the_round(prefect_server: dict[str, str], tmp_path: Path, smtp_url: str) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    duban_env = {"DUBAN_DATABASE_URL": ledger, "DUBAN_HOME": str(tmp_path / "home"),
                 "DUBAN_SECRET": SECRET, "DUBAN_NOW": "2026-06-01T10:00",
                 "DUBAN_SMTP_URL": smtp_url}  # fmt: skip
    assert CliRunner().invoke(app, ["init", str(EXAMPLE)], env=duban_env).exit_code == 0
    env = {**prefect_server, **duban_env, "DUBAN_PROJECT_DIR": str(ROOT),
           "DUBAN_CAMPAIGN": str(EXAMPLE), "PREFECT_WORKER_QUERY_SECONDS": "1"}  # fmt: skip
    api = env["PREFECT_API_URL"]
    prefect(env, "work-pool", "create", "duban", "--type", "process")
    prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file", str(_unscheduled(tmp_path)))
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "duban"],
        env=env, cwd=ROOT, stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        run_id = start_run(api, inspection="quarterly", sample_size=3)
        wait_for(api, run_id, "PAUSED", lambda: round_state(ledger) == "committed")
        resume(api, run_id, "seed", {"seed": SEED})
        wait_for(api, run_id, "PAUSED", lambda: round_state(ledger) == "drawn")
        resume(api, run_id, "approve", {"approve": True, "by": "市优化办"})
        wait_for(api, run_id, "COMPLETED")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
    engine = make_engine(ledger)
    with session_scope(engine) as session:
        assignments = session.scalars(select(InspectionAssignmentRow)).all()
        round_row = session.scalars(select(InspectionRoundRow)).one()
        kinds = session.scalars(
            select(EventRow.kind).where(EventRow.kind.like("inspection.%")).order_by(EventRow.id)
        ).all()
    engine.dispose()
    assert round_row.label == "2026-Q2"
    assert round_row.approved_by == "市优化办"
    assert len(assignments) == 3 * 2  # three a stratum (the sample size given), two strata
    assert all(len(a.inspectors) == 2 for a in assignments)
    assert kinds == ["inspection.committed", "inspection.drawn", "inspection.approved",
                     "inspection.notified"]  # fmt: skip
    assert round_row.state == "notified"
