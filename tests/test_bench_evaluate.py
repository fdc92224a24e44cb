"""bench/evaluate.py runs at a tiny size (200 units, 5,000 ratings): duban's tallies agree with
the pandas baseline on every unit, and the report has its fields. The times themselves are
the benchmark's business, never asserted here."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from .conftest import ROOT

BENCH = ROOT / "bench" / "evaluate.py"
NAME = "bench_evaluate"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--units", "200", "--ratings", "5000", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module (it imports only the standard library at its top); registered
    while it loads, as its dataclasses look their module up."""
    spec = importlib.util.spec_from_file_location(NAME, BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[NAME]


def test_the_tiny_run_agrees_with_pandas_on_every_unit(report: dict[str, Any]) -> None:
    check = report["cross_check"]
    assert check == {"units": 200, "passed": True, "differences": 0, "examples": []}
    assert report["units"] == report["sheets"] == 200
    assert 4_500 <= report["ratings"] <= 5_500
    assert report["sheet_lines"] > report["sheets"]
    # units 7 and 13 are known to (almost) nobody: too few marks, no trimmed mean
    assert report["insufficient"] >= 2
    assert report["late"] > 0
    assert report["superseded"] > 0
    assert report["spoiled"] > 0


def test_the_report_has_each_part_and_the_ratios(report: dict[str, Any]) -> None:
    assert set(report["parts"]) == {"ballots", "whole", "pandas"}
    for part in report["parts"].values():
        assert part["seconds"] > 0
        assert part["peak_mb"] > 0
        assert part["input_mb"] > 0
        assert part["peak_of"] in ("part", "process")
    assert set(report["parts"]["whole"]["stages"]) == {"ballots", "figures", "evaluate"}
    assert set(report["ratios"]) == {"ballots_to_pandas", "whole_to_pandas"}


def test_the_table_names_the_parts_and_the_verdict(
    bench: ModuleType, report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    bench.print_table(report)
    shown = capsys.readouterr().out
    assert "evaluate 200 units" in shown
    assert "pandas groupby (same aggregation)" in shown
    assert "ratios: duban ballots / pandas" in shown
    assert "cross-check of 200 units against pandas: passed" in shown


def test_the_cross_check_fails_on_one_unit_off_by_a_cent(bench: ModuleType) -> None:
    one = {"valid": 6, "spoiled": 0, "satisfied": 5, "trimmed_mean": "86.67"}
    one["satisfaction"] = "0.8333"
    spec = {"trim": "1"}
    duban: dict[str, Any] = {"spec": spec, "units": {"U00000": one}}
    pandas = copy.deepcopy(duban)
    whole = {"sheet_figure": {"U00000": "86.67"}}
    assert bench.cross_check(duban, whole, pandas)["passed"]
    pandas["units"]["U00000"]["trimmed_mean"] = "86.68"
    found = bench.cross_check(duban, whole, pandas)
    assert not found["passed"]
    assert found["differences"] == 1
    assert found["examples"][0].startswith("U00000: duban")
