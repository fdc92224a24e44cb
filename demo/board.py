"""The demo's last step: a board account on the demo's ledger and how to open the board.

``make board`` reads ``board.env`` (written here) and serves the demo's ledger as of the
demo's last day, so the matrix shows the year the demo walked.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from duban.board.accounts import account, add_user
from duban.clock import FixedClock
from duban.ledger.db import session_scope

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-board-2026"
"""For the demo's own ledger on this machine only: say so wherever it is shown."""


def open_board(home: Path, engine: Engine, at: datetime, secret: str, console: Console) -> Path:
    """Add the demo account (once) and write the settings ``make board`` reads."""
    with session_scope(engine) as session:
        if account(session, DEMO_USER) is None:
            add_user(session, FixedClock(at), DEMO_USER, DEMO_PASSWORD, "coordinator", by="demo")
    env = home / "board.env"
    values = {"DUBAN_HOME": str(home.resolve()), "DUBAN_SECRET": secret,
              "DUBAN_NOW": at.isoformat()}  # fmt: skip
    env.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()), "utf-8")
    console.print(
        "\n[bold]The board (督办看板)[/]: run [bold]make board[/], open "
        "http://127.0.0.1:8750/ and sign in as "
        f"[bold]{DEMO_USER}[/] with the password [bold]{DEMO_PASSWORD}[/] "
        "(the demo's account, for this machine only; Ctrl+C stops the board).",
        highlight=False,
    )
    return env
