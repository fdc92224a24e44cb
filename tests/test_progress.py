"""The progress a command draws on a terminal runs no thread of its own: a dispatch forks its
builders only from a process with one thread (``sending.ahead``), so a bar with rich's
refresh thread built a coordinator's notices in one process whenever they watched it."""

from __future__ import annotations

import threading

import pytest

from duban.cli.progress import shown, working


@pytest.fixture
def terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> pytest.CaptureFixture[str]:
    """stderr taken for a terminal (rich's TTY_COMPATIBLE), and what is drawn on it."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    return capsys


def test_a_bar_on_a_terminal_is_drawn_without_a_thread(
    terminal: pytest.CaptureFixture[str],
) -> None:
    threads = threading.active_count()
    with shown("sending notices") as tell:
        assert tell is not None
        assert threading.active_count() == threads
        tell(3, 10)
        tell(10, 10)
    assert "10/10" in terminal.readouterr().err


def test_a_step_that_cannot_count_shows_its_label_without_a_thread(
    terminal: pytest.CaptureFixture[str],
) -> None:
    threads = threading.active_count()
    with working("chasing late units…"):
        assert threading.active_count() == threads
    assert "chasing late units…" in terminal.readouterr().err


def test_nothing_is_drawn_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    with shown("collecting") as tell:
        assert tell is None


def test_a_long_run_tells_its_bar_every_fifty_items_and_at_the_last() -> None:
    from duban.sending.batching import TICK, ticking

    told: list[tuple[int, int | None]] = []
    tick = ticking(lambda done, total: told.append((done, total)), 120)
    assert tick is not None
    for item in range(120):
        tick(item)
    assert told == [(TICK, 120), (2 * TICK, 120), (120, 120)]
    assert ticking(None, 120) is None
