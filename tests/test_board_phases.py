"""The board's pages of the later phases and their actions (issue 18), on SQLite and PostgreSQL:
a claimed rectification item closed or returned, an appeal decided, an inspector seeing only
the rounds assigned to them; each action an event naming the signed-in user, a viewer refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from duban.board import accounts
from duban.board.app import create_app
from duban.board.context import Board
from duban.cli.app import app
from duban.ledger.schema import AppealRow, EventRow
from duban.selfcheck.ledger import apply_move, list_items
from duban.selfcheck.states import Action, Move
from duban.settings import Settings

from .conftest import EXAMPLE
from .test_cli_rectify_import import ROWS, workbook

runner = CliRunner()
CID = "nlzf-2026"
PASSWORD = "correct horse 2"


@dataclass
class World:
    board: Board
    env: dict[str, str]

    def client(self, user: str) -> TestClient:
        client = TestClient(create_app(self.board))
        found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert found is not None
        signed = client.post("/login", data={"username": user, "password": PASSWORD,
                                              "csrf": found.group(1)})  # fmt: skip
        assert signed.status_code == 200
        return client

    def cli(self, *args: str) -> None:
        result = runner.invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, result.output


@pytest.fixture
def world(ledger_url: str, tmp_path: Path) -> Iterator[World]:
    """Four items handed down (one claimed by its unit), an evaluation computed with one
    appeal lodged; a coordinator, a viewer and an inspector."""
    home = tmp_path / "home"
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-12-10",
           "DUBAN_LANG": "en", "DUBAN_SECRET": "s" * 20}  # fmt: skip
    settings = Settings(home=home, database_url=ledger_url, now="2026-12-10", secret="s" * 20)
    first = World(None, env)  # type: ignore[arg-type]
    first.cli("init", str(EXAMPLE))
    first.cli("rectify", "import", str(EXAMPLE), str(workbook(tmp_path / "交办.xlsx", ROWS)))
    first.cli("evaluate", "compute", str(EXAMPLE), "--closes", "2026-12-09")
    first.cli("evaluate", "appeal", str(EXAMPLE), "T01", "--line", "timeliness",
              "--statement", "按时报送")  # fmt: skip
    board = Board.open(settings, [EXAMPLE])
    with board.session() as session:
        [code] = [i.code for i in list_items(session, CID) if i.unit_id == "B03"]
        claim = Move(Action.CLAIM, "B03", role="unit", evidence="已建立巡查制度")
        apply_move(session, board.clock, CID, code, claim, zone=ZoneInfo("Asia/Shanghai"))
        accounts.add_user(session, board.clock, "coord", PASSWORD, "coordinator")
        accounts.add_user(session, board.clock, "leader", PASSWORD, "viewer")
        accounts.add_user(session, board.clock, "insp", PASSWORD, "inspector", inspectors=("I03",))
    try:
        yield World(board, env)
    finally:
        board.engine.dispose()


def _form(html: str, action: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, action
    return found.group(1)


def test_a_claimed_item_is_closed_and_another_returned_from_the_board(world: World) -> None:
    client = world.client("coord")
    page = client.get(f"/c/{CID}/items").text
    assert page.count("data-item=") == 4
    claimed = client.get(f"/c/{CID}/items", params={"state": "claimed"}).text
    [code] = re.findall(r'data-item="([^"]+)"', claimed)
    assert "act-close" in claimed
    csrf = _form(claimed, "close")
    refused = client.post(f"/c/{CID}/items/{code}/return", data={"csrf": csrf, "reason": " "})
    assert "reason" in refused.text  # nothing moved: the state says why
    closed = client.post(f"/c/{CID}/items/{code}/close", data={"csrf": csrf, "note": "现场核实"})
    assert f"{code}: closed" in closed.text
    assert [e.kind for e in _moves(world) if code in (e.subject or "")] == ["rectification.closed"]
    unit_page = client.get(f"/c/{CID}/unit/B03").text
    assert "rectification.claimed" in unit_page  # the item's history on its unit's page
    assert "rectification.closed" in unit_page
    again = client.post(f"/c/{CID}/items/{code}/close", data={"csrf": csrf})
    assert "(already)" in again.text
    assert client.get(f"/c/{CID}/items", params={"state": "nosuch"}).status_code == 400


def _moves(world: World) -> list[EventRow]:
    with world.board.session() as session:
        rows = list(session.scalars(select(EventRow).where(EventRow.actor == "coord")))
        session.expunge_all()
        return rows


def test_an_appeal_is_decided_from_the_board_and_a_viewer_cannot(world: World) -> None:
    viewer = world.client("leader")
    page = viewer.get(f"/c/{CID}/evaluation").text
    assert 'data-appeal="A1"' in page
    assert "act-decide" not in page
    forged = viewer.post(f"/c/{CID}/appeals/1/decide",
                         data={"csrf": _form(page, "decide"), "reason": "x"})  # fmt: skip
    assert forged.status_code == 403
    client = world.client("coord")
    page = client.get(f"/c/{CID}/evaluation").text
    assert "act-decide" in page
    assert page.count('<tr data-unit="') == 30  # the ranking of every unit
    decided = client.post(f"/c/{CID}/appeals/1/decide",
                          data={"csrf": _form(page, "decide"), "reason": "逾期属实"})  # fmt: skip
    assert "A1: " in decided.text
    with world.board.session() as session:
        appeal = session.get(AppealRow, 1)
        assert appeal is not None
        assert appeal.state != "open"
    assert any(e.actor == "coord" for e in _moves(world))


def test_an_inspector_sees_only_the_rounds_assigned_to_them(world: World) -> None:
    world.cli("inspect", "draw", str(EXAMPLE), "quarterly", "--seed", "20260501",
              "--by", "coordinator")  # fmt: skip
    everyone = world.client("coord").get(f"/c/{CID}/inspections").text
    mine = world.client("insp").get(f"/c/{CID}/inspections").text
    units_all = re.findall(r'/unit/([^"]+)"', everyone)
    units_mine = re.findall(r'/unit/([^"]+)"', mine)
    assert units_all
    assert set(units_mine) < set(units_all)  # only the units their team visits
    assert "只显示分派给您" in mine or "Only the rounds" in mine
