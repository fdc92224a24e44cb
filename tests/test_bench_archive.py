"""bench/archive.py runs at a tiny size (20 units) and prints its table.

So that the benchmark cannot rot: the script exits 1 when a command fails, the archive lacks a
raw object of the synthetic campaign, or ``duban archive verify`` does not pass counting every
payload file; this test turns that into a failure and reads the report's shape. The times,
the ratios and the memory are the benchmark's business, never asserted here.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import POSTGRES_ADMIN_URL, ROOT

STAGES = ("duban archive --help", "duban archive write", "duban archive verify",
          "sha256sum (the floor)", "cp -r of the raw store")  # fmt: skip


def run_bench(*extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "archive.py"), "--units", "20", *extra],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def check_report(output: str, ledger: str) -> None:
    assert f"=== the archive of 20 units (ledger on {ledger})" in output, output
    # 2 received messages a unit (an .eml and its workbook each), 2 sent, 6 events
    assert "ledger: 40 received messages with one workbook each, 40 sent messages, " in output
    assert "120 bench events" in output
    assert re.search(r"raw store: 120 files, [\d.]+ MB", output), output
    payload = re.search(r"bag payload: (\d+) files, [\d.]+ MB", output)
    assert payload is not None, output
    assert int(payload.group(1)) > 120, output  # the raw objects, ledger, events, README
    for stage in STAGES:
        line = next((line for line in output.splitlines() if line.startswith(stage)), None)
        assert line is not None, (stage, output)
        fields = line[len(stage) :].split()
        assert len(fields) == 3, line
        assert fields[1].endswith("×"), line
        float(fields[0]), float(fields[1][:-1]), float(fields[2])
    assert "FAILED" not in output


def test_a_tiny_archive_on_sqlite() -> None:
    check_report(run_bench(), "SQLite")


@pytest.mark.postgres
def test_a_tiny_archive_on_postgresql() -> None:
    check_report(run_bench("--database", POSTGRES_ADMIN_URL), "PostgreSQL")
