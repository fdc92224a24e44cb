"""bench/rectification runs at a tiny size (50 units × 3 items) and prints its ratios; the
times themselves are the benchmark's business, never asserted here."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_bench_rectification_runs_and_prints_the_ratios() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rectification"), "--units", "50", "--items", "3"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "50 units × 3 items = 150 items" in done.stdout
    assert "not measured, no pre-filled template builder yet" in done.stdout
    assert "整改台账 ratios:" in done.stdout
