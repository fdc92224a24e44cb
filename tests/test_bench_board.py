"""bench/board.py runs at a tiny size (50 units, 2 readers, 20 pages) and prints its table.

So that the benchmark cannot rot: the script exits 1 when a command fails, ``status --json``
counts other duties than the ledger holds, or a matrix page is not 200 or shows no rows; this
test turns that into a failure and reads the report's shape. The times and the ratio are the
benchmark's business, never asserted here.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import POSTGRES_ADMIN_URL, ROOT

MEASURES = ("duban status --json (median)", "matrix page, cold", "matrix page, p50",
            "matrix page, p95", "matrix page, max")  # fmt: skip


def run_bench(*extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "board.py"), "--units", "50", "--readers", "2",
         "--requests", "20", "--seconds", "300", *extra],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def check_report(output: str, ledger: str) -> None:
    assert f"=== the status matrix at 50 units × 12 periods (ledger on {ledger})" in output
    assert "ledger: 600 duties (" in output
    answered = re.search(r"board, 2 readers: (\d+) of 20 pages answered .*?"
                         r"(\d+) not 200 or without rows, (\d+) rows shown", output)  # fmt: skip
    assert answered is not None, output
    assert answered.groups()[:2] == ("20", "0"), output
    assert int(answered.group(3)) >= 20, output  # every page showed at least one unit
    for measure in MEASURES:
        line = next((line for line in output.splitlines() if line.startswith(measure)), None)
        assert line is not None, (measure, output)
        fields = line[len(measure) :].split()
        assert len(fields) == 2, line
        assert fields[1].endswith("×"), line
        float(fields[0])
    assert re.search(r"ratio p95 / status --json: [\d.]+×; target ≤ 2×: (met|missed)", output)


def test_a_tiny_load_on_sqlite_with_another_writer() -> None:
    output = run_bench("--write-every", "0.1")
    check_report(output, "SQLite")
    assert re.search(r"another writer appended \d+ events during the load", output)


@pytest.mark.postgres
def test_a_tiny_load_on_postgresql() -> None:
    check_report(run_bench("--database", POSTGRES_ADMIN_URL), "PostgreSQL")
