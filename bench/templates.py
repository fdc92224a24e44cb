"""Personalised templates per second: patching the master's zip vs openpyxl per unit.

    .venv/bin/python bench/templates.py [--units 1000] [--baseline-units 100] [--form plan]

Both ways run in the same process on the same master, so their ratio is steadier than either
figure on a noisy machine. The baseline is openpyxl's cheapest honest way to make a unit's
file: load the master, fill in the unit's id, name and token, save (building from scratch per
unit is slower still). Also times ``read_metadata`` on every patched file. Targets: ≥ 500
files/s and ≥ 20× the baseline.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import openpyxl
from openpyxl.cell.cell import Cell

from duban.adapters.xlsx import TemplateIdentity, sign
from duban.adapters.xlsx.layout import PLACEHOLDERS
from duban.adapters.xlsx.template import (
    MasterTemplate,
    TemplateContext,
    build_master,
    read_metadata,
)
from duban.model.loader import CampaignBundle, load_campaign

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example" / "campaign.yaml"
SECRET = b"bench-secret-0123456789abcdef"
TARGET_RATE = 500.0
TARGET_RATIO = 20.0

Unit = tuple[str, str]
T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    bundle = load_campaign(EXAMPLE)
    form = next(f for f in bundle.campaign.forms if f.id == args.form)
    started = time.perf_counter()
    master_bytes = build_master(form, _context(bundle, args.form))
    build_ms = (time.perf_counter() - started) * 1000
    master = MasterTemplate(master_bytes)
    units = _units(bundle, args.units)
    _say(f"form {form.id}: master {len(master_bytes) / 1024:.1f} KB, built in {build_ms:.0f} ms")

    files: list[bytes] = []
    patch_rate = _rate(units, lambda u: files.append(_patch(master, u)))
    _report("patch master zip", len(units), patch_rate)
    baseline_units = units[: args.baseline_units]
    baseline_rate = _rate(baseline_units, _Filler(master_bytes, master.identity))
    _report("openpyxl load-fill-save", len(baseline_units), baseline_rate)
    read_rate = _rate(files, lambda data: read_metadata(data))
    _report("read_metadata", len(files), read_rate)

    _check(files, units)
    _verdict(patch_rate, baseline_rate, TARGET_RATE, TARGET_RATIO)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=1000, help="units to personalise")
    parser.add_argument(
        "--baseline-units", type=int, default=100, help="units for the slow openpyxl baseline"
    )
    parser.add_argument("--form", default="plan", help="form id in the example campaign")
    return parser.parse_args(argv)


def _context(bundle: CampaignBundle, deliverable: str) -> TemplateContext:
    campaign = bundle.campaign
    coordinator = campaign.roles.coordinator
    return TemplateContext(
        language=campaign.language,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        deliverable_id=deliverable,
        deliverable_title="实施方案",
        period="once",
        due_text="2026年3月5日（星期四）24:00前",
        coordinator_name=coordinator.name,
        coordinator_email=str(coordinator.email),
        coordinator_phone=coordinator.phone,
    )


def _units(bundle: CampaignBundle, count: int) -> list[Unit]:
    """``count`` distinct units named like the roster's (金城镇1, 儒林镇2, …)."""
    roster = bundle.units
    return [(f"U{i:05d}", f"{roster[i % len(roster)].name}{i}") for i in range(count)]


def _patch(master: MasterTemplate, unit: Unit) -> bytes:
    unit_id, name = unit
    return master.personalise(unit_id, name, sign(SECRET, master.identity(unit_id)))


class _Filler:
    """openpyxl per unit: load the master, replace the placeholders in their cells, save."""

    def __init__(self, master: bytes, identity: Callable[[str], TemplateIdentity]) -> None:
        self.master = master
        self.identity = identity
        wb = openpyxl.load_workbook(io.BytesIO(master))
        self.cells = [
            (ws.title, cell.coordinate, cell.value)
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for cell in row
            if isinstance(cell.value, str) and "{{duban:" in cell.value
        ]

    def __call__(self, unit: Unit) -> bytes:
        unit_id, name = unit
        token = sign(SECRET, self.identity(unit_id))
        values = {"unit_id": unit_id, "unit_name": name, "token": token}
        wb = openpyxl.load_workbook(io.BytesIO(self.master))
        for title, coordinate, text in self.cells:
            for key, placeholder in PLACEHOLDERS.items():
                text = text.replace(placeholder, values[key])
            cell = wb[title][coordinate]
            assert isinstance(cell, Cell)
            cell.value = text
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _rate(items: list[T], work: Callable[[T], object]) -> float:
    started = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - started)


def _check(files: list[bytes], units: list[Unit]) -> None:
    """Every patched file names its unit (outside the timings)."""
    for data, (unit_id, name) in zip(files, units, strict=True):
        meta = read_metadata(data)
        if (meta["unit_id"], meta["unit_name"]) != (unit_id, name):
            raise SystemExit(f"wrong metadata for {unit_id}: {meta}")


def _report(label: str, count: int, rate: float) -> None:
    _say(f"{label:<24} {count:>6} files  {rate:>9,.0f} files/s  {1000 / rate:>7.2f} ms/file")


def _verdict(rate: float, baseline: float, target_rate: float, target_ratio: float) -> None:
    """The ratio of the patched files' rate to openpyxl's, and both against their targets."""
    ratio = rate / baseline
    _say(f"ratio patch / openpyxl: {ratio:.0f}×")
    _say(
        f"targets: ≥ {target_rate:.0f} files/s {_ok(rate >= target_rate)}, "
        f"≥ {target_ratio:.0f}× openpyxl {_ok(ratio >= target_ratio)}"
    )


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
