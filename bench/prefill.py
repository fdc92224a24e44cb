"""Pre-filled templates per second: patching the sheet's XML vs openpyxl writing the same rows.

    .venv/bin/python bench/prefill.py [--units 10000] [--items 20] [--baseline-units 200]

A unit's progress-report template holds its open rectification items, one row each, with the
id, finding, measure and deadline locked (issue 15). Both ways start from the unit's
personalised copy (``MasterTemplate.personalise``, timed with the patch) and write the same
rows in the same process, so their ratio is steadier than either figure on a noisy machine.
The baseline, timed on a sample of units and extrapolated as a rate, is openpyxl's cheapest
honest way: load the copy, write the values, lock and grey the locked cells, save. Targets:
≥ 200 files/s and ≥ 20× the baseline.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from copy import copy
from datetime import date, datetime

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.styles import PatternFill, Protection

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.prefill import CellValue, SheetPrefiller
from duban.adapters.xlsx.template import (
    LOCKED_FILL_RGB,
    MasterTemplate,
    TemplateContext,
    build_master,
)
from duban.model.forms import FIRST_DATA_ROW, Form
from templates import _rate, _report, _say, _verdict  # bench/templates.py, beside this script

SECRET = b"bench-secret-0123456789abcdef"
TARGET_RATE = 200.0
TARGET_RATIO = 20.0
SHEET = "整改进展"
LOCKED = ("code", "finding", "measure", "deadline")

Rows = list[dict[str, CellValue]]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    form = _form(args.items)
    keys = [c.key for c in form.sheets[0].columns]
    started = time.perf_counter()
    master = MasterTemplate(build_master(form, _context()))
    template = _personalise(master, "U00000")
    filler = SheetPrefiller(template, SHEET)
    setup_ms = (time.perf_counter() - started) * 1000
    _say(f"{args.units} units × {args.items} items; master and prefiller in {setup_ms:.0f} ms")
    units = [(f"U{i:05d}", _rows(i, args.items)) for i in range(args.units)]

    sizes: list[int] = []
    samples: dict[str, bytes] = {}

    def patch(unit: tuple[str, Rows]) -> None:
        unit_id, rows = unit
        data = filler.fill(_personalise(master, unit_id), rows, LOCKED, keys)
        sizes.append(len(data))
        if len(samples) < 3:
            samples[unit_id] = data

    patch_rate = _rate(units, patch)
    _report("personalise + prefill", len(units), patch_rate)
    personalise_rate = _rate(units, lambda unit: _personalise(master, unit[0]))
    _report("personalise alone", len(units), personalise_rate)
    baseline = units[: args.baseline_units]
    baseline_rate = _rate(baseline, _OpenpyxlFiller(master, keys))
    _report("openpyxl load-fill-save", len(baseline), baseline_rate)

    _check(samples, dict(units))
    _say(f"mean file {sum(sizes) / len(sizes) / 1024:.1f} KB")
    _verdict(patch_rate, baseline_rate, TARGET_RATE, TARGET_RATIO)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="units to pre-fill")
    parser.add_argument("--items", type=int, default=20, help="open items per unit")
    parser.add_argument(
        "--baseline-units", type=int, default=200, help="units for the slow openpyxl baseline"
    )
    return parser.parse_args(argv)


def _form(items: int) -> Form:
    text = {"type": "text"}
    return Form.model_validate(
        {
            "id": "rectify_progress",
            "title": "整改进展月报",
            "sheets": [
                {
                    "name": SHEET,
                    "max_rows": max(100, items),
                    "columns": [
                        {"key": "code", "label": "编号", "required": True, **text},
                        {"key": "finding", "label": "问题描述", "required": True, **text},
                        {"key": "measure", "label": "整改措施", **text},
                        {"key": "deadline", "label": "整改时限", "type": "date"},
                        {"key": "progress", "label": "整改进展", **text},
                        {
                            "key": "claimed",
                            "label": "完成情况",
                            "type": "choice",
                            "choices": ["整改中", "已完成"],
                        },
                        {"key": "evidence", "label": "佐证材料", **text},
                    ],
                }
            ],
        }
    )


def _context() -> TemplateContext:
    return TemplateContext(
        language="zh-CN", campaign_id="bench", campaign_title="自查自纠专项行动",
        deliverable_id="rectify_progress", deliverable_title="整改进展月报", period="2026-05",
        due_text="2026年5月31日", coordinator_name="市纪委", coordinator_email="jw@jt.example",
    )  # fmt: skip


def _rows(unit: int, items: int) -> Rows:
    return [
        {
            "code": f"ZG-U{unit:05d}-{n:03d}",
            "finding": f"第{n}项：制度执行不到位，台账记录不全 <{unit}&{n}>",
            "measure": "完善制度，建立月度台账，专人负责",
            "deadline": date(2026, 6, 1 + n % 28),
            "progress": "已部署整改" if n % 3 else None,
        }
        for n in range(1, items + 1)
    ]


def _personalise(master: MasterTemplate, unit_id: str) -> bytes:
    return master.personalise(unit_id, f"单位{unit_id}", sign(SECRET, master.identity(unit_id)))


class _OpenpyxlFiller:
    """openpyxl per unit: load the unit's copy, write the rows, lock and grey the locked
    columns' cells, save."""

    def __init__(self, master: MasterTemplate, keys: list[str]) -> None:
        self.master = master
        self.keys = keys
        self.fill = PatternFill("solid", fgColor=LOCKED_FILL_RGB)
        self.locked = Protection(locked=True)

    def __call__(self, unit: tuple[str, Rows]) -> bytes:
        unit_id, rows = unit
        wb = openpyxl.load_workbook(io.BytesIO(_personalise(self.master, unit_id)))
        ws = wb[SHEET]
        for offset, row in enumerate(rows):
            for index, key in enumerate(self.keys, start=1):
                cell = ws.cell(FIRST_DATA_ROW + offset, index)
                assert isinstance(cell, Cell)
                cell.value = row.get(key)
                if key in LOCKED:
                    cell.protection = copy(self.locked)
                    cell.fill = copy(self.fill)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _check(samples: dict[str, bytes], rows: dict[str, Rows]) -> None:
    """A few pre-filled files hold their unit's rows, locked where they should be (outside the
    timings)."""
    for unit_id, data in samples.items():
        ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET]
        for offset, row in enumerate(rows[unit_id]):
            code = ws.cell(FIRST_DATA_ROW + offset, 1)
            deadline = ws.cell(FIRST_DATA_ROW + offset, 4).value
            if code.value != row["code"] or not code.protection.locked:
                raise SystemExit(f"{unit_id} row {offset}: {code.value!r}")
            if not isinstance(deadline, datetime) or deadline.date() != row["deadline"]:
                raise SystemExit(f"{unit_id} row {offset}: deadline {deadline!r}")


if __name__ == "__main__":
    sys.exit(main())
