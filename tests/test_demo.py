"""`make demo` runs the production flows on the example: here it runs twice in a temp folder."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from demo.run import run_demo
from rich.console import Console

from .conftest import EXAMPLE


def test_the_demo_runs_twice_and_delivers_every_notice(
    prefect_harness: None, tmp_path: Path
) -> None:
    home = tmp_path / "demo"
    for _ in range(2):
        console = Console(record=True, width=140)
        run_demo(EXAMPLE, home, console)
        text = console.export_text()
        assert "mobilize plan" in text
        assert "every email (Maildir)" in text
        messages = list(mailbox.Maildir(home / "mail"))
        assert len(messages) == 30 + 5  # plan notices to all, Q1 progress to the five leads


def test_the_demo_refuses_to_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run_demo(EXAMPLE, tmp_path, Console(record=True))
    assert (tmp_path / "precious.txt").exists()
