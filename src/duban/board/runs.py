"""Starting a run from the board (一键执行): a chase, a collection, a summary, a reminder or an
ad hoc inspection round, for the coordinator who does not open a terminal.

With ``DUBAN_PREFECT_API_URL`` set, the run is a flow run of duban's deployment on that Prefect
server (its REST API over httpx: ``adapters.prefect_api``), with the parameters the Custom Run
form would take, and the page lists the runs the server has scheduled next. Without it, the
board runs the same command as the command line would, in a process of its own, its output
kept under ``DUBAN_HOME/board-runs/``. Either way the start is an event naming the user, and
a form sent twice (a double click, a reload) starts one run: its nonce is the run's key.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from duban.board.actions import acted
from duban.board.web import Acting, Page, board_of, campaign_of, render, user_of
from duban.errors import DubanError
from duban.ledger.locks import exclusive
from duban.ledger.schema import EventRow
from duban.ledger.store import append_event
from duban.model.loader import CampaignBundle
from duban.settings import Settings

router = APIRouter()
Text = Annotated[str, Form()]


@dataclass(frozen=True)
class Runnable:
    """A deployment of prefect.yaml the board offers, and what it asks for."""

    deployment: str
    flow: str
    needs_deliverable: bool = False
    takes_period: bool = False
    needs_inspection: bool = False


RUNNABLE = {r.deployment: r for r in (
    Runnable("collect", "collect"),
    Runnable("chase", "chase"),
    Runnable("remind", "remind", needs_deliverable=True, takes_period=True),
    Runnable("compile", "compile", needs_deliverable=True, takes_period=True),
    Runnable("inspect", "inspect", needs_inspection=True, takes_period=True),
)}  # fmt: skip


@dataclass(frozen=True)
class RunRequest:
    deployment: str
    deliverable: str
    period: str
    inspection: str
    user: str

    def parameters(self, campaign_file: Path) -> dict[str, Any]:
        """The flow's parameters, as its Custom Run form names them."""
        found: dict[str, Any] = {"campaign_file": str(campaign_file)}
        if self.deliverable:
            found["deliverable"] = self.deliverable
        if self.period:
            found["round_label" if self.deployment == "inspect" else "period"] = self.period
        if self.inspection:
            found["inspection"] = self.inspection
        if self.deployment == "remind":
            found["by"] = self.user
        return found

    def command(self, campaign_file: Path) -> list[str]:
        """The same run as a command line (what runs here without a Prefect server)."""
        if self.deployment == "inspect":
            args = ["inspect", "commit", str(campaign_file), self.inspection]
            return args + (["--round", self.period] if self.period else []) + ["--by", self.user]
        args = [self.deployment, str(campaign_file)]
        if self.deliverable:
            args += ["--deliverable", self.deliverable]
        if self.period:
            args += ["--period", self.period]
        return args + (["--by", self.user] if self.deployment == "remind" else [])


def check(request: RunRequest, bundle: CampaignBundle) -> Runnable:
    """What the form lacks or gets wrong, said before anything starts."""
    runnable = RUNNABLE.get(request.deployment)
    if runnable is None:
        raise DubanError(f"no such run: {request.deployment!r}",
                         zh=f"没有这一项：{request.deployment!r}")  # fmt: skip
    if runnable.needs_deliverable:
        bundle.campaign.deliverable(request.deliverable)  # an unknown id is named
    if runnable.needs_inspection and request.inspection not in {
        i.id for i in bundle.campaign.inspections
    }:
        raise DubanError(f"no inspection {request.inspection!r} in the campaign",
                         zh=f"活动中没有督查事项 {request.inspection!r}")  # fmt: skip
    return runnable


@router.get("/c/{campaign_id}/runs")
def runs_page(request: Request, campaign_id: str) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    scheduled, problem = [], None
    if board.settings.prefect_api_url:
        try:
            with _api(board.settings.prefect_api_url) as api:
                scheduled = api.scheduled()
        except DubanError as error:
            problem = error.said(bundle.campaign.language)[0]
    with board.session() as db:
        started = list(db.scalars(
            select(EventRow).where(EventRow.campaign_id == campaign_id,
                                   EventRow.kind == "board.run_started")
            .order_by(EventRow.id.desc()).limit(20)
        ))  # fmt: skip
    return render(request, Page("runs.html", {
        "user": user, "runnable": RUNNABLE, "nonce": secrets.token_urlsafe(12),
        "server": board.settings.prefect_api_url, "scheduled": scheduled, "problem": problem,
        "started": started, "zone": bundle.campaign.zone,
    }), bundle=bundle)  # fmt: skip


@router.post("/c/{campaign_id}/runs")
def start_run(
    request: Request, campaign_id: str, csrf: Text = "", deployment: Text = "",
    deliverable: Text = "", period: Text = "", inspection: Text = "", nonce: Text = "",
) -> Response:  # fmt: skip

    def act(a: Acting) -> str:
        board, bundle = a.board, a.bundle
        asked = RunRequest(deployment, deliverable.strip(), period.strip(), inspection.strip(),
                           a.user.name)  # fmt: skip
        runnable = check(asked, bundle)
        key = f"board-run:{campaign_id}:{nonce or secrets.token_urlsafe(12)}"
        with exclusive(board.engine, key), board.session() as db:
            if db.scalar(select(EventRow.id).where(EventRow.subject == key)) is not None:
                return f"{deployment}: already started"
            where, ref = _start(board.settings, runnable, asked, bundle.path, key)
            append_event(db, board.clock, "board.run_started", campaign_id=campaign_id,
                         subject=key, actor=a.user.name, payload={
                             "deployment": deployment, "where": where, "ref": ref,
                             "parameters": asked.parameters(bundle.path)})  # fmt: skip
        return f"{deployment}: {where} {ref}"

    return acted(request, campaign_id, csrf, f"/c/{campaign_id}/runs", act)


def _start(settings: Settings, runnable: Runnable, asked: RunRequest, campaign_file: Path,
           key: str) -> tuple[str, str]:  # fmt: skip
    """Start the run where it belongs; what and where, to record."""
    api_url, home = settings.prefect_api_url, settings.home
    if api_url:
        with _api(api_url) as api:
            run = api.start(runnable.flow, runnable.deployment, asked.parameters(campaign_file),
                            key)  # fmt: skip
        return "prefect", f"{run.name} ({run.id})"
    logs = home / "board-runs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{key.rsplit(':', 1)[-1]}.log"
    with log.open("wb") as out:
        subprocess.Popen(
            [sys.executable, "-m", "duban", *asked.command(campaign_file)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=settings.environment(),
        )  # fmt: skip
    return "local", str(log)


class _api:  # noqa: N801  (a context manager named for what it gives)
    """An httpx client to the Prefect API for one request of the board."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> Any:
        import httpx

        from duban.adapters.prefect_api import PrefectApi

        self.client = httpx.Client(timeout=10.0)
        return PrefectApi(self.client, self.url)

    def __exit__(self, *_: object) -> None:
        self.client.close()
