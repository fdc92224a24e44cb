"""The board over HTTP (issue 18), on a real ledger (SQLite, and PostgreSQL for the actions):
every page refused without a session, the CSRF token on every form, roles, the login throttle,
unit text shown as text, downloads kept inside the campaign's folder, actions recorded as
events naming the user. The browser tests (test_board_browser) drive the same pages in Chromium.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from duban.board import accounts
from duban.board.app import create_app
from duban.board.context import Board
from duban.board.signin import MAX_FAILURES
from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow, InstanceRow
from duban.ledger.store import register
from duban.model.loader import load_campaign
from duban.settings import Settings
from duban.testing.helpers import copy_campaign, temporary_postgres_database

from .conftest import EXAMPLE

CID = "nlzf-2026"
PASSWORD = "correct horse 1"
SCRIPT = "<script>alert(1)</script>县局"
IMG = '<img src=x onerror="alert(2)">镇'


def hostile_campaign(tmp_path: Path) -> Path:
    """The example campaign with two units whose names are HTML (a roster can hold anything)."""
    campaign = copy_campaign(EXAMPLE, tmp_path / "campaign")
    roster = campaign.parent / "roster.csv"
    rows = list(csv.DictReader(io.StringIO(roster.read_text(encoding="utf-8"))))
    rows[0]["name"], rows[1]["name"] = SCRIPT, IMG
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    roster.write_text(out.getvalue(), encoding="utf-8")
    return campaign


def open_board(tmp_path: Path, campaign: Path, url: str | None = None) -> Board:
    settings = Settings(home=tmp_path / "home", secret="s" * 20, now="2026-03-12 10:00",
                        database_url=url)  # fmt: skip
    engine = make_engine(settings.ledger_url)
    migrate(engine)
    clock = settings.clock()
    with session_scope(engine) as session:
        register(session, load_campaign(campaign), clock)
        accounts.add_user(session, clock, "coord", PASSWORD, "coordinator")
        accounts.add_user(session, clock, "leader", PASSWORD, "viewer")
    engine.dispose()
    return Board.open(settings, [campaign])


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    opened = open_board(tmp_path, hostile_campaign(tmp_path))
    yield opened
    opened.engine.dispose()


def token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def signed_in(board: Board, user: str) -> TestClient:
    client = TestClient(create_app(board))
    response = client.post("/login", data={"username": user, "password": PASSWORD,
                                           "csrf": token(client), "next": "/"})  # fmt: skip
    assert response.status_code == 200, response.text
    return client


PAGES = ["/", f"/c/{CID}/", f"/c/{CID}/matrix", f"/c/{CID}/matrix?state=missing",
         f"/c/{CID}/matrix.xlsx", f"/c/{CID}/unit/T01", f"/c/{CID}/held", f"/c/{CID}/files",
         f"/c/{CID}/raw/F1", f"/c/{CID}/files/x.xlsx"]  # fmt: skip
ACTIONS = [f"/c/{CID}/held/F1/accept", f"/c/{CID}/held/F1/dismiss",
           f"/c/{CID}/unit/T01/extend", f"/c/{CID}/unit/T01/exempt"]  # fmt: skip


def test_every_page_sends_a_stranger_to_the_login_page(board: Board) -> None:
    client = TestClient(create_app(board))
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in ACTIONS:
        assert client.post(path, data={"csrf": token(client)}).status_code == 403, path


def test_signing_in_goes_back_to_the_page_asked(board: Board) -> None:
    client = TestClient(create_app(board))
    asked = client.get(f"/c/{CID}/matrix?state=missing")  # followed to the login page
    found = re.search(r'name="next" value="([^"]+)"', asked.text)
    assert found is not None
    form = {"username": "coord", "password": PASSWORD, "csrf": token(client),
            "next": found.group(1)}  # fmt: skip
    response = client.post("/login", data=form)
    assert response.url.path == f"/c/{CID}/matrix"
    assert "state=missing" in str(response.url)


def test_a_wrong_password_is_refused_and_the_throttle_stops_guessing(board: Board) -> None:
    client = TestClient(create_app(board))
    for _ in range(MAX_FAILURES):
        wrong = client.post("/login", data={"username": "coord", "password": "guess-123",
                                            "csrf": token(client)})  # fmt: skip
        assert wrong.status_code == 401
        assert "用户名或密码不对" in wrong.text
    blocked = client.post("/login", data={"username": "coord", "password": PASSWORD,
                                          "csrf": token(client)})  # fmt: skip
    assert blocked.status_code == 429  # even the right password, until the window passes
    assert isinstance(board.clock, FixedClock)
    board.clock.advance(timedelta(minutes=16))
    again = client.post("/login", data={"username": "coord", "password": PASSWORD,
                                        "csrf": token(client)})  # fmt: skip
    assert again.status_code == 200


def test_a_login_without_its_token_is_refused(board: Board) -> None:
    client = TestClient(create_app(board))
    response = client.post("/login", data={"username": "coord", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_unit_names_with_html_are_shown_as_text(board: Board) -> None:
    client = signed_in(board, "coord")
    for path in (f"/c/{CID}/matrix", f"/c/{CID}/unit/T01", f"/c/{CID}/unit/T02",
                 f"/c/{CID}/matrix?q=%3Cscript%3E"):  # fmt: skip
        html = client.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    matrix = client.get(f"/c/{CID}/matrix").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;县局" in matrix
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;镇" in matrix
    searched = client.get(f"/c/{CID}/matrix", params={"q": '"><script>x()</script>'}).text
    assert "<script>x()" not in searched


def test_a_forged_post_without_the_token_changes_nothing(board: Board) -> None:
    client = signed_in(board, "coord")
    response = client.post(f"/c/{CID}/unit/T03/exempt",
                           data={"deliverable": "plan", "reason": "forged"})  # fmt: skip
    assert response.status_code == 403
    assert not _duty(board, "T03").exempt


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(board: Board) -> None:
    client = signed_in(board, "leader")
    for path in (f"/c/{CID}/unit/T03", f"/c/{CID}/held"):
        html = client.get(path).text
        assert 'method="post" action="/c/' not in html, path
        assert "act-" not in html, path
    csrf = token(client, f"/c/{CID}/unit/T03")
    form = {"csrf": csrf, "deliverable": "plan", "reason": "forged"}
    response = client.post(f"/c/{CID}/unit/T03/exempt", data=form)
    assert response.status_code == 403
    assert not _duty(board, "T03").exempt


def test_a_disabled_account_is_signed_out_at_its_next_page(board: Board) -> None:
    client = signed_in(board, "coord")
    assert client.get(f"/c/{CID}/").status_code == 200
    with board.session() as session:
        accounts.set_active(session, board.clock, "coord", False, "test")
    assert client.get(f"/c/{CID}/", follow_redirects=False).status_code == 303


def test_downloads_stay_inside_the_campaign_folder(board: Board, tmp_path: Path) -> None:
    outputs = board.settings.outputs / CID / "plan-once"
    outputs.mkdir(parents=True)
    (outputs / "汇总表.xlsx").write_bytes(b"workbook")
    (board.settings.home / "secret.txt").write_text("not for download", encoding="utf-8")
    (outputs / "link.txt").symlink_to(board.settings.home / "secret.txt")
    client = signed_in(board, "coord")
    listing = client.get(f"/c/{CID}/files").text
    assert "plan-once/汇总表.xlsx" in listing
    assert "link.txt" not in listing
    got = client.get(f"/c/{CID}/files/plan-once/%E6%B1%87%E6%80%BB%E8%A1%A8.xlsx")
    assert got.status_code == 200
    assert got.content == b"workbook"
    for path in ("../../secret.txt", "..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt",
                 "plan-once/..%2F..%2F..%2Fsecret.txt", "plan-once/link.txt",
                 "%2Fetc%2Fpasswd", "plan-once\\..\\..\\secret.txt"):  # fmt: skip
        response = client.get(f"/c/{CID}/files/{path}")
        assert response.status_code in (400, 404), path
        assert b"not for download" not in response.content, path


def test_the_matrix_filters_and_exports_what_it_shows(board: Board) -> None:
    client = signed_in(board, "coord")
    everyone = client.get(f"/c/{CID}/matrix").text
    assert everyone.count("data-unit=") == 30
    towns = client.get(f"/c/{CID}/matrix", params={"tag": "镇区"}).text
    assert 0 < towns.count("data-unit=") < 30
    one = client.get(f"/c/{CID}/matrix", params={"q": "薛埠"}).text
    assert one.count("data-unit=") == 1
    missing = client.get(f"/c/{CID}/matrix", params={"state": "missing"}).text
    assert missing.count("data-unit=") == 30  # nobody replied to the plan due 5 March
    export = client.get(f"/c/{CID}/matrix.xlsx", params={"tag": "镇区"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    assert sheet.max_row - 1 == towns.count("data-unit=")
    assert sheet.cell(2, 4).value == "未报"
    assert client.get(f"/c/{CID}/matrix", params={"state": "nosuch"}).status_code == 400


def test_an_extension_from_the_board_is_an_event_naming_the_user(board: Board) -> None:
    _extend_and_check(board)


@pytest.mark.postgres
def test_the_board_acts_on_postgresql(tmp_path: Path) -> None:
    with temporary_postgres_database() as url:
        opened = open_board(tmp_path, EXAMPLE, url)
        try:
            _extend_and_check(opened)
        finally:
            opened.engine.dispose()


def _extend_and_check(board: Board) -> None:
    client = signed_in(board, "coord")
    csrf = token(client, f"/c/{CID}/unit/T04")
    response = client.post(f"/c/{CID}/unit/T04/extend", data={
        "csrf": csrf, "deliverable": "plan", "period": "once", "to": "2026-03-20",
        "reason": "汛期抢险",
    })  # fmt: skip
    assert response.status_code == 200
    assert "2026-03-20" in response.text  # the flash says what was done
    assert _duty(board, "T04").extended_to is not None
    with board.session() as session:
        about = EventRow.kind.like("%extend%"), EventRow.subject.like("%/T04")
        [event] = session.scalars(select(EventRow).where(*about)).all()
        assert event.actor == "coord"
    matrix = client.get(f"/c/{CID}/matrix", params={"state": "extended"}).text
    assert 'data-unit="T04"' in matrix  # the cached matrix saw the change
    bad = client.post(f"/c/{CID}/unit/T04/extend", data={
        "csrf": csrf, "deliverable": "plan", "to": "2026-02-30", "reason": "x"})  # fmt: skip
    assert "不是有效日期" in bad.text


def _duty(board: Board, unit: str) -> InstanceRow:
    with board.session() as session:
        wanted = InstanceRow.unit_id == unit, InstanceRow.deliverable_id == "plan"
        row = session.scalars(select(InstanceRow).where(*wanted)).one()
        session.expunge(row)
        return row


def test_an_english_campaign_has_an_english_board(tmp_path: Path) -> None:
    from duban.testing.helpers import edit_campaign

    campaign = edit_campaign(copy_campaign(EXAMPLE, tmp_path / "en"),
                             lambda data: data.update(language="en"))  # fmt: skip
    board = open_board(tmp_path, campaign)
    try:
        client = signed_in(board, "coord")
        matrix = client.get(f"/c/{CID}/matrix").text
        assert '<html lang="en">' in matrix
        assert "Status matrix" in matrix
        assert "missing" in matrix
        assert "Export to Excel" in matrix
        for word in ("筛选", "导出", "未到期", "退出", "报送情况"):  # interface words
            assert word not in matrix, word
        bad = client.post(f"/c/{CID}/unit/T04/extend", data={
            "csrf": token(client, f"/c/{CID}/unit/T04"), "deliverable": "plan",
            "to": "2026-02-30", "reason": "x"})  # fmt: skip
        assert "is not a date" in bad.text
    finally:
        board.engine.dispose()
