"""Prefect's REST API over httpx: start a run of a deployment, list the runs scheduled next.

The board starts flow runs through this adapter so that the domain never imports Prefect (the
client library costs a second to import and pins its own world); the API is Prefect 3's
``/api`` (``PREFECT_API_URL``), the same a ``prefect deployment run`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from duban.errors import DubanError


@dataclass(frozen=True)
class StartedRun:
    id: str
    name: str
    state: str


@dataclass(frozen=True)
class ScheduledRun:
    deployment: str
    name: str
    expected: datetime | None


class PrefectApi:
    def __init__(self, client: httpx.Client, api_url: str) -> None:
        self.client = client
        self.url = api_url.rstrip("/")

    def deployment_id(self, flow: str, deployment: str) -> str:
        path = f"/deployments/name/{quote(flow, safe='')}/{quote(deployment, safe='')}"
        return str(self._call("GET", path)["id"])

    def start(
        self, flow: str, deployment: str, parameters: dict[str, Any], idempotency_key: str
    ) -> StartedRun:
        """A new run of the deployment; the same key again returns the same run (Prefect's
        idempotency key), so a form sent twice starts one run."""
        deployment_id = self.deployment_id(flow, deployment)
        body = {"parameters": parameters, "idempotency_key": idempotency_key}
        run = self._call("POST", f"/deployments/{deployment_id}/create_flow_run", body)
        state = (run.get("state") or {}).get("type", "")
        return StartedRun(str(run["id"]), str(run.get("name", "")), str(state))

    def scheduled(self, limit: int = 10) -> list[ScheduledRun]:
        """The next runs the server has scheduled, soonest first."""
        body = {
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC",
            "limit": limit,
        }
        runs = self._call("POST", "/flow_runs/filter", body)
        names = self._deployment_names({str(r["deployment_id"]) for r in runs
                                        if r.get("deployment_id")})  # fmt: skip
        return [
            ScheduledRun(names.get(str(r.get("deployment_id")), ""), str(r.get("name", "")),
                         _moment(r.get("expected_start_time")))
            for r in runs
        ]  # fmt: skip

    def _deployment_names(self, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        body = {"deployments": {"id": {"any_": sorted(ids)}}}
        return {str(d["id"]): str(d["name"]) for d in self._call("POST", "/deployments/filter",
                                                                  body)}  # fmt: skip

    def _call(self, method: str, path: str, body: object = None) -> Any:
        try:
            response = self.client.request(method, self.url + path, json=body)
        except httpx.HTTPError as error:
            raise DubanError(
                f"the Prefect server at {self.url} did not answer ({error})",
                hint="start it, or unset DUBAN_PREFECT_API_URL to run here",
                zh=f"Prefect 服务器 {self.url} 没有响应（{error}）",
                zh_hint="请启动它，或取消 DUBAN_PREFECT_API_URL 以在本机运行",
            ) from None
        if response.status_code == 404:
            raise DubanError(
                f"the Prefect server has no {path.split('/name/')[-1]}",
                hint="deploy duban's flows first: prefect --no-prompt deploy --all",
                zh=f"Prefect 服务器上没有 {path.split('/name/')[-1]}",
                zh_hint="请先部署：prefect --no-prompt deploy --all",
            )
        if response.status_code >= 400:
            raise DubanError(
                f"the Prefect server refused ({response.status_code}): {response.text[:200]}",
                zh=f"Prefect 服务器拒绝了请求（{response.status_code}）：{response.text[:200]}",
            )
        return response.json()


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
