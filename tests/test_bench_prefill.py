"""bench/prefill.py runs on a few units and prints its ratio; the times are its business."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_bench_prefill_runs_and_prints_the_ratio() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "prefill.py"),
         "--units", "20", "--items", "5", "--baseline-units", "2"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ratio patch / openpyxl:" in done.stdout
    assert "personalise + prefill" in done.stdout
