"""Starting a run from the board (issue 18): through Prefect's REST API when a server is set
(a real, temporary Prefect server with duban's deployment registered), else the same command
here; each start an event naming the user, a form sent twice starting one run.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from duban.board import accounts
from duban.board.app import create_app
from duban.board.context import Board
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow
from duban.ledger.store import register
from duban.model.loader import load_campaign
from duban.settings import Settings

from .conftest import EXAMPLE

CID = "nlzf-2026"
PASSWORD = "correct horse 3"


def open_board(home: Path, api_url: str | None = None) -> Board:
    settings = Settings(home=home, secret="s" * 20, now="2026-03-12 10:00",
                        prefect_api_url=api_url)  # fmt: skip
    engine = make_engine(settings.ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, load_campaign(EXAMPLE), settings.clock())
        accounts.add_user(session, settings.clock(), "coord", PASSWORD, "coordinator")
        accounts.add_user(session, settings.clock(), "leader", PASSWORD, "viewer")
    engine.dispose()
    return Board.open(settings, [EXAMPLE])


def signed_in(board: Board, user: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(board))
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found is not None
    client.post("/login", data={"username": user, "password": PASSWORD, "csrf": found.group(1)})
    page = client.get(f"/c/{CID}/runs").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    return client, f"{csrf.group(1)} {nonce.group(1) if nonce else ''}"


def started(board: Board) -> list[EventRow]:
    with board.session() as session:
        rows = list(session.scalars(select(EventRow).where(EventRow.kind == "board.run_started")))
        session.expunge_all()
        return rows


@pytest.fixture
def local_board(tmp_path: Path) -> Iterator[Board]:
    board = open_board(tmp_path / "home")
    yield board
    board.engine.dispose()


def test_without_a_server_the_board_runs_the_command_here_once(local_board: Board) -> None:
    client, tokens = signed_in(local_board, "coord")
    csrf, nonce = tokens.split()
    form = {"csrf": csrf, "nonce": nonce, "deployment": "compile", "deliverable": "plan"}
    first = client.post(f"/c/{CID}/runs", data=form)
    assert "compile: local" in first.text
    again = client.post(f"/c/{CID}/runs", data=form)  # the same form, sent again
    assert "already started" in again.text
    [event] = started(local_board)
    assert event.actor == "coord"
    assert event.payload["parameters"]["deliverable"] == "plan"
    log = Path(event.payload["ref"])
    workbook = local_board.settings.outputs / CID
    for _ in range(600):  # the command's own process; bounded, never a time assertion
        if "汇总表" in log.read_text("utf-8", errors="replace"):
            break
        time.sleep(0.1)
    assert list(workbook.rglob("*汇总表.xlsx")), log.read_text("utf-8", errors="replace")


def test_one_form_sent_from_two_sessions_at_once_starts_one_run(local_board: Board) -> None:
    """The same form (its nonce) sent twice at the same moment, as a double click that two
    connections carry, or a reload racing the first post: one run, one event."""
    first, tokens = signed_in(local_board, "coord")
    second, other = signed_in(local_board, "coord")
    nonce = tokens.split()[1]
    barrier = threading.Barrier(2)
    said: list[str] = []

    def post(client: TestClient, csrf: str) -> None:
        form = {"csrf": csrf, "nonce": nonce, "deployment": "chase"}
        barrier.wait(timeout=30)
        said.append(client.post(f"/c/{CID}/runs", data=form).text)

    threads = [threading.Thread(target=post, args=(first, tokens.split()[0])),
               threading.Thread(target=post, args=(second, other.split()[0]))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum("already started" in text for text in said) == 1
    assert sum("chase: local" in text for text in said) == 1
    assert len(started(local_board)) == 1, [t[-300:] for t in said]


def test_a_wrong_run_is_named_and_a_viewer_cannot_start_one(local_board: Board) -> None:
    client, tokens = signed_in(local_board, "coord")
    csrf, nonce = tokens.split()
    form = {"csrf": csrf, "nonce": nonce, "deployment": "compile", "deliverable": "x"}
    wrong = client.post(f"/c/{CID}/runs", data=form)
    assert "x" in wrong.text
    inspection = client.post(f"/c/{CID}/runs", data={"csrf": csrf, "nonce": nonce,
                                                      "deployment": "inspect"})  # fmt: skip
    assert "督查事项" in inspection.text
    viewer, tokens = signed_in(local_board, "leader")
    assert "act-run" not in viewer.get(f"/c/{CID}/runs").text
    refused = viewer.post(f"/c/{CID}/runs", data={"csrf": tokens.split()[0], "nonce": "n",
                                                   "deployment": "chase"})  # fmt: skip
    assert refused.status_code == 403
    assert started(local_board) == []


def _deploy(api_url: str) -> UUID:
    """Register duban's chase flow and its deployment on the server, as `prefect deploy`
    would (no worker: the run stays scheduled, which is all the board asks of it)."""
    from prefect.client.orchestration import get_client

    from flows.chase import chase

    async def deploy() -> UUID:
        async with get_client() as client:
            flow_id = await client.create_flow(chase)
            return await client.create_deployment(flow_id=flow_id, name="chase",
                                                  entrypoint="flows/chase.py:chase")  # fmt: skip

    return asyncio.run(deploy())


def _runs(deployment_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async def read() -> list[Any]:
        async with get_client() as client:
            wanted = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            return list(await client.read_flow_runs(deployment_filter=wanted))

    return asyncio.run(read())


def test_with_a_server_the_board_starts_a_flow_run_of_the_deployment(
    prefect_harness: None, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    assert api_url
    deployment_id = _deploy(api_url)
    board = open_board(tmp_path / "home", api_url)
    try:
        client, tokens = signed_in(board, "coord")
        csrf, nonce = tokens.split()
        form = {"csrf": csrf, "nonce": nonce, "deployment": "chase"}
        first = client.post(f"/c/{CID}/runs", data=form)
        assert "chase: prefect" in first.text, first.text
        client.post(f"/c/{CID}/runs", data=form)  # sent twice: one run
        [run] = _runs(deployment_id)
        assert run.parameters == {"campaign_file": str(EXAMPLE)}
        assert run.state_type.value == "SCHEDULED"
        [event] = started(board)
        assert event.actor == "coord"
        assert str(run.id) in event.payload["ref"]
        page = client.get(f"/c/{CID}/runs").text
        assert "chase" in page  # the run the server has scheduled next is listed
    finally:
        board.engine.dispose()
