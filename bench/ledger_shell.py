"""What the benchmarks over a whole synthetic ledger share (bench/board.py, bench/archive.py):
the coordinator's shell they run duban's commands in, and the ledger they fill (SQLite under
DUBAN_HOME, or a fresh PostgreSQL database dropped at the end)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench secret, long enough for HMAC"
ZONE = "Asia/Shanghai"
NOW = "2026-12-08T10:00"


def coordinator_env(work: Path, url: str, language: str = "en") -> dict[str, str]:
    """A coordinator's shell on the simulated clock; nothing that could reach another machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env.update(
        DUBAN_HOME=str(work / "home"), DUBAN_DATABASE_URL=url, DUBAN_SECRET=SECRET,
        DUBAN_NOW=NOW, DUBAN_TIMEZONE=ZONE, DUBAN_LANG=language,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])),
    )  # fmt: skip
    return env


@contextmanager
def bench_database(work: Path, server: str | None) -> Iterator[str]:
    """SQLite under DUBAN_HOME, or a fresh PostgreSQL database, dropped at the end."""
    if server is None:
        yield f"sqlite:///{work / 'home' / 'duban.sqlite3'}"
        return
    from duban.testing.helpers import temporary_postgres_database

    with temporary_postgres_database(server) as url:
        yield url
