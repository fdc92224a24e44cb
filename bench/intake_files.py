"""Received workbooks read per second: sniff, pre-check and isolated workers vs a plain loop.

    .venv/bin/python bench/intake_files.py [--files 1000] [--baseline-files 1000] [--workers 2]

Both ways read the same generated files in the same run, so their ratio is steadier than either
figure on a noisy machine. The files are what units send back: ≈ 12 KB, Chinese text, a merged
title, 50 rows × 12 columns, a very-hidden ``_duban`` metadata sheet, with shared strings as
Excel and WPS write them (xlsxwriter). The isolated way is what intake runs: ``sniff`` by
content, then ``WorkbookReader.read_many`` (which pre-checks each file in this process while
the worker processes parse, each under its memory cap and time limit). The baseline is
``pandas.read_excel(engine="openpyxl")`` when pandas is installed, else the openpyxl read loop
pandas runs. Peak memory is the resident set of this process (measured before the baseline
runs) and of the largest worker. Targets: ≥ 300 files/s, ≥ 4× the baseline, < 300 MB.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from datetime import date, timedelta
from importlib.util import find_spec
from typing import Any

import openpyxl
import xlsxwriter  # type: ignore[import-untyped, unused-ignore]

from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import sniff

TARGET_RATE = 300.0
TARGET_RATIO = 4.0
TARGET_MB = 300.0
ROWS = 50
COLUMNS = ("序号", "工作类别", "工作任务", "具体措施", "责任科室", "责任人", "联系电话",
           "计划完成时限", "完成比例（%）", "进展情况", "存在问题", "备注")  # fmt: skip
CATEGORIES = ("教育培训", "提速增效", "执行力强化", "重点项目推进", "作风整顿")
TOWNS = ("金城镇", "儒林镇", "南湖街道", "市发展和改革委员会", "市财政局", "市自然资源局")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.perf_counter()
    files = [_workbook(i) for i in range(args.files)]
    average_kb = sum(map(len, files)) / len(files) / 1024
    _say(
        f"{len(files)} workbooks, {average_kb:.1f} KB on average, "
        f"made in {time.perf_counter() - started:.1f} s"
    )

    rate = _isolated(files, args.workers)
    own_mb, worker_mb = _peak_mb()
    _report(f"sniff + precheck + {args.workers} workers", len(files), rate)
    baseline_files = files[: args.baseline_files]
    label, baseline = _baseline()
    baseline_rate = _rate(baseline_files, baseline)
    _report(label, len(baseline_files), baseline_rate)

    ratio = rate / baseline_rate
    peak = max(own_mb, worker_mb)
    _say(f"ratio isolated / baseline: {ratio:.1f}×")
    _say(f"peak RSS: this process {own_mb:.0f} MB (before the baseline), largest worker "
         f"{worker_mb:.0f} MB")  # fmt: skip
    _say(
        f"targets: ≥ {TARGET_RATE:.0f} files/s {_ok(rate >= TARGET_RATE)}, "
        f"≥ {TARGET_RATIO:.0f}× baseline {_ok(ratio >= TARGET_RATIO)}, "
        f"< {TARGET_MB:.0f} MB {_ok(peak < TARGET_MB)}"
    )
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=1000, help="workbooks to read")
    parser.add_argument(
        "--baseline-files", type=int, default=1000, help="of those, how many the baseline reads"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    return parser.parse_args(argv)


def _isolated(files: list[bytes], workers: int) -> float:
    """Files per second through intake's path, starting and stopping the workers included."""
    started = time.perf_counter()
    with WorkbookReader(workers=workers) as reader:
        results = reader.read_many([(data, sniff(data, "实施方案.xlsx")) for data in files])
    elapsed = time.perf_counter() - started
    _check(results)
    return len(files) / elapsed


def _check(results: list[ParsedWorkbook | FileRejected]) -> None:
    """Every file read, with its own unit's metadata and every row (outside the timings)."""
    for index, result in enumerate(results):
        if isinstance(result, FileRejected):
            raise SystemExit(f"file {index} rejected: {result.code} {result.detail}")
        metadata = result.require_metadata()
        if metadata["unit_id"] != f"U{index:05d}" or len(result.sheets["进展情况"]) != 2 + ROWS:
            raise SystemExit(f"file {index} read wrongly: {metadata}")


def _baseline() -> tuple[str, Any]:
    if find_spec("pandas") is not None:
        import pandas  # type: ignore[import-untyped, import-not-found, unused-ignore]

        def read_pandas(data: bytes) -> object:
            return pandas.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl")

        return "pandas.read_excel(openpyxl)", read_pandas
    return "openpyxl read loop (no pandas)", _read_openpyxl


def _read_openpyxl(data: bytes) -> object:
    """What pandas does with openpyxl: read-only, cached values, every sheet's rows."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb}
    finally:
        wb.close()


def _rate(files: list[bytes], read: Any) -> float:
    started = time.perf_counter()
    for data in files:
        read(data)
    return len(files) / (time.perf_counter() - started)


def _peak_mb() -> tuple[float, float]:
    """Peak resident set (KB on Linux) of this process and of the largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _workbook(index: int) -> bytes:
    """One unit's reply: a form sheet of 50 rows × 12 columns and the metadata sheet."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    title = wb.add_format({"bold": True, "font_size": 14, "align": "center", "text_wrap": True})
    head = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    day = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    _instructions(wb.add_worksheet("填报说明"), cell)
    ws = wb.add_worksheet("进展情况")
    town = f"{TOWNS[index % len(TOWNS)]}{index}"
    ws.merge_range(0, 0, 0, len(COLUMNS) - 1, f"重点工作推进情况（季度）\n填报单位：{town}", title)
    for col, label in enumerate(COLUMNS):
        ws.write_string(1, col, label, head)
    for n in range(ROWS):
        _row(ws, 2 + n, index, n, cell, day)
    meta = wb.add_worksheet("_duban")
    for row, (key, value) in enumerate(_metadata(index, town).items()):
        meta.write_string(row, 0, key)
        meta.write_string(row, 1, value)
    meta.very_hidden()
    wb.close()
    return out.getvalue()


def _instructions(ws: Any, cell: Any) -> None:
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 90)
    for row, label in enumerate(COLUMNS):
        ws.write_string(row, 0, label, cell)
        ws.write_string(row, 1, f"请如实填写{label}，不得删除或调整表头，不得合并单元格。", cell)


def _row(ws: Any, row: int, index: int, n: int, cell: Any, day: Any) -> None:
    ws.write_number(row, 0, n + 1, cell)
    ws.write_string(row, 1, CATEGORIES[(index + n) % len(CATEGORIES)], cell)
    ws.write_string(row, 2, f"第{n + 1}项重点工作：优化营商环境专项行动", cell)
    ws.write_string(row, 3, f"组织开展专题学习{n % 7 + 1}次，建立问题清单和整改台账", cell)
    ws.write_string(row, 4, ("办公室", "综合科", "政策法规科")[n % 3], cell)
    ws.write_string(row, 5, ("张伟", "王芳", "李娜", "刘洋")[(index + n) % 4], cell)
    ws.write_string(row, 6, f"0760-8{(index * 7 + n) % 10_000_000:07d}", cell)
    ws.write_datetime(row, 7, date(2026, 3, 31) + timedelta(days=(index + n) % 90), day)
    ws.write_number(row, 8, (index + n * 7) % 101, cell)
    ws.write_string(row, 9, "按计划推进，已完成阶段性目标" if n % 2 else "正在推进中", cell)
    ws.write_string(row, 10, "人员力量不足" if n % 5 == 0 else "", cell)
    ws.write_string(row, 11, "", cell)


def _metadata(index: int, town: str) -> dict[str, str]:
    return {
        "campaign": "nlzf-2026",
        "deliverable": "progress",
        "period": "2026-Q1",
        "unit_id": f"U{index:05d}",
        "unit_name": town,
        "template_version": "1",
        "form_id": "progress",
        "token": f"{index * 2654435761 % 2**64:016x}",
    }


def _report(label: str, count: int, rate: float) -> None:
    _say(f"{label:<32} {count:>6} files  {rate:>7,.0f} files/s  {1000 / rate:>6.2f} ms/file")


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
