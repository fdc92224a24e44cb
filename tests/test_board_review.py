"""Held items decided from the board over HTTP (issue 18): a held file rejected with a note that
goes to its sender over a real SMTP server (once, however often the form is sent), a held file
set aside, and a reject refused with nothing changed when no mail server is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from duban.board.app import create_app
from duban.board.context import Board
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow, IntakeFileRow
from duban.model.loader import CampaignBundle
from duban.settings import Settings
from duban.testing.mailserver import LocalSmtpServer

from .board_fixtures import (
    COORDINATOR,
    HELD_ONLY,
    LATE_WITH_HELD,
    STRANGER,
    build_ledger,
    held_file_of,
)
from .conftest import EXAMPLE


@pytest.fixture
def ledger(tmp_path: Path, example_bundle: CampaignBundle) -> Settings:
    return build_ledger(tmp_path / "home", example_bundle)


def client_of(board: Board) -> tuple[TestClient, str]:
    client = TestClient(create_app(board))
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found is not None
    name, password = COORDINATOR
    client.post("/login", data={"username": name, "password": password, "csrf": found.group(1)})
    return client, found.group(1)


def outcome(settings: Settings, item: str) -> str:
    engine = make_engine(settings.ledger_url)
    try:
        with session_scope(engine) as session:
            return str(session.scalar(select(IntakeFileRow.outcome).where(
                IntakeFileRow.id == int(item[1:]))))  # fmt: skip
    finally:
        engine.dispose()


@pytest.fixture
def mail() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


def test_a_rejection_from_the_board_tells_the_sender_once(
    ledger: Settings, mail: LocalSmtpServer
) -> None:
    settings = Settings(**{**ledger.model_dump(), "smtp_url": mail.url()})
    board = Board.open(settings, [EXAMPLE])
    try:
        client, csrf = client_of(board)
        item = held_file_of(board.engine, HELD_ONLY)
        page = client.get("/c/nlzf-2026/held").text
        assert f'action="/c/nlzf-2026/held/{item}/reject"' in page
        form = {"csrf": csrf, "note": "请用单位登记的邮箱重新报送"}
        said = client.post(f"/c/nlzf-2026/held/{item}/reject", data=form).text
        assert STRANGER in said
        client.post(f"/c/nlzf-2026/held/{item}/reject", data=form)  # sent again: no second note
        assert outcome(ledger, item) == "rejected"
        [note] = mail.messages
        assert note.rcpt_tos == (STRANGER,)
        body = message_from_bytes(note.raw, policy=default)
        assert isinstance(body, EmailMessage)
        plain = body.get_body(("plain",))
        assert plain is not None
        assert "请用单位登记的邮箱重新报送" in plain.get_content()
        assert "退回" in str(body["Subject"])
        with board.session() as session:
            actors = session.scalars(select(EventRow.actor).where(
                EventRow.subject == f"intake-file/{item[1:]}")).all()  # fmt: skip
        assert COORDINATOR[0] in actors
    finally:
        board.engine.dispose()


def test_without_a_mail_server_a_rejection_is_refused_and_nothing_changes(
    ledger: Settings,
) -> None:
    board = Board.open(ledger, [EXAMPLE])
    try:
        client, csrf = client_of(board)
        item = held_file_of(board.engine, HELD_ONLY)
        said = client.post(f"/c/nlzf-2026/held/{item}/reject",
                           data={"csrf": csrf, "note": "x"}).text  # fmt: skip
        assert "DUBAN_SMTP_URL" in said
        assert outcome(ledger, item) == "held"
        other = held_file_of(board.engine, LATE_WITH_HELD)
        refused = client.post(f"/c/nlzf-2026/held/{other}/dismiss", data={"csrf": csrf})
        assert outcome(ledger, other) == "held"  # no reason given: nothing done
        assert "理由" in refused.text
        client.post(f"/c/nlzf-2026/held/{other}/dismiss",
                    data={"csrf": csrf, "note": "同一文件已按时收到"})  # fmt: skip
        assert outcome(ledger, other) == "dismissed"
    finally:
        board.engine.dispose()
