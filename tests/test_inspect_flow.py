"""The deployments that suspend for a person, on a real Prefect server with a process worker.

The ``inspect`` deployment (issue 16, item 3):
started with parameters and no seed, it commits the round and suspends for the seed; resumed
with the seed through the API, it draws and suspends for the approval; resumed with the
approval, it writes the teams and sends each inspector their scoresheets over SMTP. The ledger
is checked after each step. The ``evaluate`` deployment (issue 17): it computes the year's
evaluation as of the close, shows the ranking and suspends until the coordinator freezes it.

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
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from duban.cli.app import app
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import (
    EvaluationRow,
    EventRow,
    InspectionAssignmentRow,
    InspectionRoundRow,
)
from duban.testing.mailserver import LocalSmtpServer
from flows.evaluation import pause_key as evaluation_key
from flows.inspection import pause_key

from .conftest import EXAMPLE, ROOT
from .test_operate import _unscheduled, prefect
from .test_operate import call_api as call
from .test_operate import prefect_server as running_prefect_server

SECRET = "inspect flow test secret, long enough"
SEED = "2026060112345"


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[dict[str, str]]:
    """`prefect server start` on its own SQLite database, for this module."""
    with running_prefect_server({}) as env:
        yield env


def start_run(api: str, flow: str = "inspect", **parameters: Any) -> str:
    found = call("GET", f"{api}/deployments/name/{flow}/{flow}")
    found.raise_for_status()
    created = call("POST", f"{api}/deployments/{found.json()['id']}/create_flow_run",
                  json={"parameters": parameters})  # fmt: skip
    created.raise_for_status()
    return str(created.json()["id"])


def wait_for(api: str, run_id: str, wanted: str, ready: Any = lambda: True) -> dict[str, Any]:
    """Poll the run until its state type is ``wanted`` and ``ready()`` holds (no timing
    assertion: the deadline only stops a hung test)."""
    deadline = time.monotonic() + 300
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = call("GET", f"{api}/flow_runs/{run_id}").json()
        state = run.get("state") or {}
        if state.get("type") in ("FAILED", "CRASHED", "CANCELLED"):
            pytest.fail(f"the run ended {state}")
        if state.get("type") == wanted and ready():
            return run
        time.sleep(1)
    pytest.fail(f"the run did not reach {wanted}: {run.get('state')}")


def resume(api: str, run_id: str, key: str, run_input: dict[str, Any]) -> None:
    """Resume the suspended run once its input form is on the server (the flow saves the
    form's schema just after it suspends: a resume before that is refused)."""
    wait_for(api, run_id, "PAUSED", lambda: call(
        "GET", f"{api}/flow_runs/{run_id}/input/suspended-{key}-schema"
    ).status_code == 200)  # fmt: skip
    done = call("POST", f"{api}/flow_runs/{run_id}/resume", json={"run_input": run_input})
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


@contextmanager
def deployed(
    prefect_server: dict[str, str], tmp_path: Path, duban_env: dict[str, str]
) -> Iterator[str]:
    """The ledger initialised, the deployments made and a process worker started: the API."""
    assert CliRunner().invoke(app, ["init", str(EXAMPLE)], env=duban_env).exit_code == 0
    env = {**prefect_server, **duban_env, "DUBAN_PROJECT_DIR": str(ROOT),
           "DUBAN_CAMPAIGN": str(EXAMPLE), "PREFECT_WORKER_QUERY_SECONDS": "1"}  # fmt: skip
    prefect(env, "work-pool", "create", "duban", "--type", "process", "--overwrite")
    prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file", str(_unscheduled(tmp_path)))
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "duban"],
        env=env, cwd=ROOT, stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield env["PREFECT_API_URL"]
    finally:
        os.killpg(worker.pid, signal.SIGKILL)


def _walk_the_round(prefect_server: dict[str, str], tmp_path: Path, smtp_url: str) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    duban_env = {"DUBAN_DATABASE_URL": ledger, "DUBAN_HOME": str(tmp_path / "home"),
                 "DUBAN_SECRET": SECRET, "DUBAN_NOW": "2026-06-01T10:00",
                 "DUBAN_SMTP_URL": smtp_url}  # fmt: skip
    with deployed(prefect_server, tmp_path, duban_env) as api:
        run_id = start_run(api, inspection="quarterly", sample_size=3)
        wait_for(api, run_id, "PAUSED", lambda: round_state(ledger) == "committed")
        resume(api, run_id, pause_key("seed", "2026-Q2"), {"seed": SEED})
        wait_for(api, run_id, "PAUSED", lambda: round_state(ledger) == "drawn")
        resume(api, run_id, pause_key("approve", "2026-Q2"), {"approve": True, "by": "市优化办"})
        wait_for(api, run_id, "COMPLETED")
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


def evaluations(url: str) -> list[tuple[int, str]]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return [(r.version, r.state) for r in session.scalars(select(EvaluationRow))]
    finally:
        engine.dispose()


def test_the_evaluate_deployment_computes_and_waits_to_freeze(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    """Started with its parameters, the evaluate run computes the evaluation as of the close,
    mails each unit its preliminary sheet, shows the ranking as an artifact and suspends;
    resumed with the freeze, it freezes and mails the final result and the bulletin."""
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with LocalSmtpServer() as smtp:
        duban_env = {"DUBAN_DATABASE_URL": ledger, "DUBAN_HOME": str(tmp_path / "home"),
                     "DUBAN_SECRET": SECRET, "DUBAN_NOW": "2026-12-21T10:00",
                     "DUBAN_SMTP_URL": smtp.url()}  # fmt: skip
        run = _evaluate_and_freeze(prefect_server, tmp_path, duban_env, ledger, smtp)
        kinds = [key_kind(m.raw) for m in smtp.messages]
    assert kinds.count("evaluation-sheet:v1") == len(units())  # before the suspension
    assert kinds.count("evaluation-sheet:final") == len(units())  # after the freeze
    assert kinds.count("evaluation-bulletin") == 1
    assert evaluations(ledger) == [(1, "frozen")]
    engine = make_engine(ledger)
    with session_scope(engine) as session:
        row = session.scalars(select(EvaluationRow)).one()
        closes, frozen_by = row.closes_at, row.frozen_by
    engine.dispose()
    assert closes.isoformat() == "2026-12-18T16:00:00+00:00"  # the day's end in Shanghai
    assert frozen_by == "市优化办"
    assert run["state"]["type"] == "COMPLETED"


def units() -> list[str]:
    from duban.model.loader import load_campaign

    return [u.id for u in load_campaign(EXAMPLE).units]


def key_kind(raw: bytes) -> str:
    """A sent message's kind by its key: ``evaluation-sheet:v1``, ``…:final``, the bulletin."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    key = str(parsed["X-Duban-Key"] or "")
    kind, *rest = key.split(":")
    return f"{kind}:{rest[2]}" if kind == "evaluation-sheet" else kind


def _evaluate_and_freeze(
    prefect_server: dict[str, str], tmp_path: Path, duban_env: dict[str, str], ledger: str,
    smtp: LocalSmtpServer,
) -> dict[str, Any]:  # fmt: skip
    with deployed(prefect_server, tmp_path, duban_env) as api:
        run_id = start_run(api, "evaluate", closes="2026-12-18")
        wait_for(api, run_id, "PAUSED", lambda: evaluations(ledger) == [(1, "preliminary")])
        artifacts = call("POST", f"{api}/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()  # fmt: skip
        [ranking] = [a for a in artifacts if a["type"] == "table"]
        assert "2026: version 1" in ranking["description"]
        assert len(smtp.messages) == len(units())  # published before it suspended
        resume(api, run_id, evaluation_key("2026"), {"freeze": True, "by": "市优化办"})
        return wait_for(api, run_id, "COMPLETED")
