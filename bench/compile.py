"""Compiling the summary workbook: duban's streamed xlsxwriter writer vs openpyxl normal mode.

    .venv/bin/python bench/compile.py [--units 10000] [--rows 50] [--skip-baseline]

Both writers get the same ``CompileInput``: N units on the ``plan`` form of the example campaign
(7 columns, Chinese text, a date), R rows each, with ``submissions`` a generator, as gather
yields them. Each writer runs in its own process, so its peak memory (ru_maxrss) is its own;
a third process only consumes the stream, which is what making the input costs by itself. The
baseline writes the same three kinds of sheets (overview figures, the units with their state
colours, every detail row with dates as dates, frozen header, autofilter, widths), minus the
chart, with openpyxl in normal mode, the way a compile is usually first written.
Targets at 10,000 × 50: duban < 40 s and < 400 MB, faster than the baseline with at most half
its memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from duban.adapters.render import format_due
from duban.compile.model import CompileInput, SubmissionData, Totals, UnitLine
from duban.compile.texts import WORKBOOK_TEXTS, state_word
from duban.compile.workbook import write_summary
from duban.model.forms import Form
from duban.model.loader import load_campaign

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example" / "campaign.yaml"
ZONE = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
TARGET_SECONDS = 40.0
TARGET_MB = 400.0

CATEGORIES = ("教育培训", "提速增效", "执行力强化", "重点项目推进", "作风整顿")
TASKS = ("加强教育培训，推进干部素质优化工程", "创新服务举措，推进提速增效工程",
         "规范行政行为，推进执行力强化工程", "完善工作机制，实施重点项目推进工程",
         "开展专项行动，推进作风整顿工程")  # fmt: skip
MEASURES = ("扎实开展学习型党组织、学习型领导班子创建活动，进一步完善党委中心组学习制度",
            "进一步减少和规范行政审批事项，完善服务制度，优化服务流程，缩短服务时限",
            "坚持重大事项集体决策，健全民主集中、专家咨询、社会公示与听证等制度",
            "继续推行重点项目责任制和领导挂钩责任制，全程跟踪服务，加快推进项目建设",
            "积极开展走进基层服务群众活动，畅通社情民意反映渠道，及时解决群众合理诉求")  # fmt: skip
SECTIONS = ("办公室", "组织科", "宣传科", "综合科", "督查科", "法规科")
OWNERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊")
TOWNS = (
    "金城镇",
    "儒林镇",
    "薛埠镇",
    "指前镇",
    "朱林镇",
    "直溪镇",
    "市发展和改革委员会",
    "市财政局",
)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.worker:
        return _worker(args)
    _say(f"compile {args.units:,} units × {args.rows} rows = {args.units * args.rows:,} rows")
    with tempfile.TemporaryDirectory(prefix="duban-bench-") as folder:
        stream = _run("stream", args, Path(folder))
        _report("input stream alone", stream)
        duban = _run("duban", args, Path(folder))
        _report("duban (xlsxwriter)", duban)
        if args.skip_baseline:
            return 0
        baseline = _run("openpyxl", args, Path(folder))
        _report("openpyxl normal mode", baseline)
    speed = baseline["seconds"] / duban["seconds"]
    memory = duban["peak_mb"] / baseline["peak_mb"]
    _say(f"ratios: {speed:.1f}× faster, {memory:.2f}× the memory of openpyxl normal mode")
    _say(
        f"targets: < {TARGET_SECONDS:.0f} s {_ok(duban['seconds'] < TARGET_SECONDS)}, "
        f"< {TARGET_MB:.0f} MB {_ok(duban['peak_mb'] < TARGET_MB)}, "
        f"faster {_ok(speed > 1)}, ≤ half the memory {_ok(memory <= 0.5)}"
    )
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="units that submitted")
    parser.add_argument("--rows", type=int, default=50, help="rows in each submission")
    parser.add_argument("--skip-baseline", action="store_true", help="measure duban only")
    parser.add_argument("--worker", choices=("stream", "duban", "openpyxl"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One writer in a fresh process; its last stdout line is its JSON report."""
    command = [sys.executable, __file__, "--worker", kind, "--units", str(args.units)]
    command += ["--rows", str(args.rows), "--out", str(folder / f"{kind}.xlsx")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{kind} worker failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _worker(args: argparse.Namespace) -> int:
    data = compile_input(args.units, args.rows)
    out: Path = args.out
    started = time.perf_counter()
    if args.worker == "stream":
        rows = sum(len(r) for s in data.submissions for r in s.rows.values())
    elif args.worker == "duban":
        rows = write_summary(data, out).detail_rows
    else:
        rows = write_openpyxl(data, out)
    seconds = time.perf_counter() - started
    if rows != args.units * args.rows:
        raise SystemExit(f"{args.worker}: {rows} rows written, {args.units * args.rows} expected")
    report = {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows,
        "file_mb": out.stat().st_size / 2**20 if out.exists() else 0.0,
    }
    _say(json.dumps(report))
    return 0


# ------------------------------------------------------------------------------- the input


def plan_form() -> Form:
    bundle = load_campaign(EXAMPLE)
    return next(f for f in bundle.campaign.forms if f.id == "plan")


def compile_input(units: int, rows: int) -> CompileInput:
    """N units, every tenth late, each with R rows; submissions are a generator."""
    lines = [_unit_line(i) for i in range(units)]
    late = sum(1 for u in lines if u.state == "late")
    totals = Totals(units, units, units - late, late, 0, 0, 0, 0)
    return CompileInput(
        campaign_id="nlzf-2026",
        campaign_title='2026年"能力作风建设提升年"活动',
        language="zh-CN",
        zone=ZONE,
        deliverable_id="plan",
        deliverable_title="实施方案",
        period="once",
        due_text=format_due(DUE, ZONE, "zh-CN"),
        as_of=AS_OF,
        coordinator_name="市优化办",
        form=plan_form(),
        totals=totals,
        units=lines,
        submissions=_submissions(lines, rows),
    )


def _unit_line(i: int) -> UnitLine:
    late = i % 10 == 9
    received = DUE + timedelta(days=2) if late else DUE - timedelta(hours=1 + i % 48)
    return UnitLine(
        unit_id=f"U{i:05d}",
        unit_name=f"{TOWNS[i % len(TOWNS)]}{i}",
        tags=("镇区",) if i % 2 else ("部门",),
        state="late" if late else "on-time",
        due_at=DUE,
        first_valid_at=received,
        latest_version=1 + i % 3,
        latest_received_at=received + timedelta(hours=i % 3),
        versions=1 + i % 3,
        late_working_days=2 if late else None,
    )


def _submissions(lines: list[UnitLine], rows: int) -> Iterator[SubmissionData]:
    for i, unit in enumerate(lines):
        assert unit.latest_version is not None
        assert unit.latest_received_at is not None
        yield SubmissionData(
            unit_id=unit.unit_id,
            unit_name=unit.unit_name,
            version=unit.latest_version,
            received_at=unit.latest_received_at,
            sha256=f"{i:064x}",
            rows={"实施方案": [_row(i, n) for n in range(rows)]},
        )


def _row(i: int, n: int) -> dict[str, Any]:
    """One validated row as the ledger keeps it: text, and dates as ISO text."""
    k = i + n
    return {
        "category": CATEGORIES[k % len(CATEGORIES)],
        "task": f"{TASKS[k % len(TASKS)]}（{n + 1}）",
        "measures": f"{MEASURES[(k * 7) % len(MEASURES)]}，第{n + 1}项",
        "section": SECTIONS[k % len(SECTIONS)],
        "owner": OWNERS[(i * 3 + n) % len(OWNERS)],
        "phone": f"0519-8281{k % 10000:04d}",
        "deadline": (date(2026, 4, 1) + timedelta(days=k % 240)).isoformat(),
    }


# ------------------------------------------------------------------- the openpyxl baseline


def write_openpyxl(data: CompileInput, path: Path) -> int:
    """The same sheets in openpyxl's normal mode (every cell an object until save)."""
    texts = WORKBOOK_TEXTS[data.language]
    wb = openpyxl.Workbook()
    overview = wb.active
    assert overview is not None
    overview.title = texts.overview_sheet
    _baseline_overview(overview, data)
    _baseline_units(wb.create_sheet(texts.units_sheet), data)
    detail = wb.create_sheet(texts.detail_sheet)
    columns = data.form.sheets[0].columns
    detail.append([*texts.source_columns, *(c.label for c in columns)])
    used, rows = [], 0
    for s in data.submissions:
        used.append((s.unit_id, s.version, s.sha256))
        received = s.received_at.astimezone(data.zone).replace(tzinfo=None)
        for values in s.rows[data.form.sheets[0].name]:
            cells = [_baseline_value(c.type, values.get(c.key)) for c in columns]
            detail.append([s.unit_id, s.unit_name, s.version, received, s.sha256, *cells])
            rows += 1
    _baseline_layout(detail, 5 + len(columns), rows + 1)
    audit = wb.create_sheet("_duban")
    for triple in used:
        audit.append(list(triple))
    audit.sheet_state = "hidden"
    wb.save(path)
    return rows


def _baseline_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date":
        return date.fromisoformat(value)
    if kind in ("integer", "decimal"):
        return float(value)
    return value


def _baseline_overview(ws: Any, data: CompileInput) -> None:
    t = data.totals
    ws.append([data.campaign_title])
    for label, value in (("应报送单位", t.expected), ("已报送单位", t.received),
                         ("按时报送", t.on_time), ("逾期报送", t.late), ("未报送", t.missing),
                         ("报送率", t.completeness), ("及时率", t.timeliness)):  # fmt: skip
        ws.append([label, value])


def _baseline_units(ws: Any, data: CompileInput) -> None:
    texts = WORKBOOK_TEXTS[data.language]
    ws.append(list(texts.unit_columns))
    fills = {"on-time": "E2EFDA", "late": "FFEB9C"}
    for u in data.units:
        ws.append(
            [u.unit_id, u.unit_name, "、".join(u.tags), state_word(u.state, data.language),
             u.due_at.astimezone(data.zone).strftime("%Y-%m-%d %H:%M"),
             _local(u.first_valid_at, data.zone), u.latest_version,
             _local(u.latest_received_at, data.zone), u.versions, u.late_working_days]
        )  # fmt: skip
        fill = PatternFill("solid", fgColor=fills.get(u.state, "FFFFFF"))
        for cell in ws[ws.max_row]:
            cell.fill = fill
    _baseline_layout(ws, len(texts.unit_columns), len(data.units) + 1)


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def _baseline_layout(ws: Any, width: int, height: int) -> None:
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    ws.freeze_panes = "C2"
    last = get_column_letter(width)
    ws.auto_filter.ref = f"A1:{last}{height}"
    for col in range(1, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16


# ---------------------------------------------------------------------------------- output


def _report(label: str, r: dict[str, Any]) -> None:
    rate = r["rows"] / r["seconds"]
    _say(
        f"{label:<22} {r['seconds']:>7.1f} s  {rate:>9,.0f} rows/s  "
        f"peak {r['peak_mb']:>6,.0f} MB  file {r['file_mb']:>6.1f} MB"
    )


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
