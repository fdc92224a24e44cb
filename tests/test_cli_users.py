"""``duban users`` (issue 18): accounts added, listed, their password changed, disabled and
enabled from the command line, on a real ledger; passwords kept only as argon2id hashes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from duban.board.accounts import authenticate
from duban.cli.app import app
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import BoardUserRow, EventRow

runner = CliRunner()


def run(home: Path, *args: str, stdin: str | None = None) -> str:
    env = {"DUBAN_HOME": str(home), "DUBAN_LANG": "en", "DUBAN_NOW": "2026-03-10", "COLUMNS": "80"}
    result = runner.invoke(app, list(args), env=env, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_account_from_add_to_disabled(tmp_path: Path) -> None:
    run(tmp_path, "users", "add", "wang.lingdao", "--role", "viewer", "--password-stdin",
        stdin="first password\n")  # fmt: skip
    run(tmp_path, "users", "add", "zhao.ducha", "--role", "inspector", "--inspector", "I03",
        "--password-stdin", stdin="inspector pass\n")  # fmt: skip
    listing = run(tmp_path, "users", "list")
    assert "wang.lingdao" in listing
    assert "viewer" in listing
    engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    try:
        with session_scope(engine) as session:
            row = session.get(BoardUserRow, "wang.lingdao")
            assert row is not None
            assert row.password_hash.startswith("$argon2id$")
            assert "first password" not in row.password_hash
            inspector = authenticate(session, "zhao.ducha", "inspector pass")
            assert inspector is not None
            assert inspector.scope == ("I03",)
            assert authenticate(session, "wang.lingdao", "first password") is not None
        run(tmp_path, "users", "passwd", "wang.lingdao", "--password-stdin",
            stdin="second password\n")  # fmt: skip
        with session_scope(engine) as session:
            assert authenticate(session, "wang.lingdao", "first password") is None
            assert authenticate(session, "wang.lingdao", "second password") is not None
        assert "disabled" in run(tmp_path, "users", "disable", "wang.lingdao")
        assert "already" in run(tmp_path, "users", "disable", "wang.lingdao")
        with session_scope(engine) as session:
            assert authenticate(session, "wang.lingdao", "second password") is None
        run(tmp_path, "users", "enable", "wang.lingdao")
        with session_scope(engine) as session:
            assert authenticate(session, "wang.lingdao", "second password") is not None
            kinds = session.scalars(select(EventRow.kind).where(
                EventRow.subject == "user:wang.lingdao").order_by(EventRow.id)).all()  # fmt: skip
        assert kinds == ["board.user_added", "board.password_changed", "board.user_disabled",
                         "board.user_enabled"]  # fmt: skip
    finally:
        engine.dispose()


def test_mistakes_are_named(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path), "DUBAN_LANG": "en"}
    short = runner.invoke(app, ["users", "add", "li", "--role", "coordinator", "--password-stdin"],
                          env=env, input="short\n")  # fmt: skip
    assert short.exit_code == 1
    assert "too short" in short.output
    args = ["users", "add", "li", "--role", "inspector", "--password-stdin"]
    inspector = runner.invoke(app, args, env=env, input="long enough\n")
    assert inspector.exit_code == 1
    assert "--inspector" in inspector.output
    run(tmp_path, "users", "add", "li", "--role", "coordinator", "--password-stdin",
        stdin="long enough\n")  # fmt: skip
    twice = runner.invoke(app, ["users", "add", "li", "--role", "viewer", "--password-stdin"],
                          env=env, input="long enough\n")  # fmt: skip
    assert twice.exit_code == 1
    assert "already exists" in twice.output
