"""Pre-filled templates (issue 15, point 3): a unit's open items written into its copy by
patching the sheet's XML, some cells locked; read back by openpyxl, by duban's own reader and
validator, after LibreOffice re-saves the file, and after a unit fills the editable cells."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.prefill import CellValue, PrefillError, SheetPrefiller, prefilled
from duban.adapters.xlsx.template import MasterTemplate, TemplateContext, build_master
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.sniff import sniff
from duban.model.forms import FIRST_DATA_ROW, Form
from duban.model.validation import validate_workbook

SECRET = b"0123456789abcdef-prefill-secret"
SHEET = "整改进展"
SOFFICE = shutil.which("soffice")
FORM = Form.model_validate(
    {
        "id": "rectify_progress",
        "title": "整改进展月报",
        "sheets": [
            {
                "name": SHEET,
                "max_rows": 40,
                "columns": [
                    {"key": "code", "label": "编号", "required": True},
                    {"key": "finding", "label": "问题描述", "required": True},
                    {"key": "measure", "label": "整改措施"},
                    {"key": "deadline", "label": "整改时限", "type": "date"},
                    {"key": "progress", "label": "整改进展"},
                    {
                        "key": "claimed",
                        "label": "完成情况",
                        "type": "choice",
                        "choices": ["整改中", "已完成"],
                    },
                    {"key": "evidence", "label": "佐证材料"},
                ],
            }
        ],
    }
)
KEYS = [c.key for c in FORM.sheets[0].columns]
LOCKED = {"code", "finding", "measure", "deadline"}
EDITABLE = [k for k in KEYS if k not in LOCKED]


def items() -> list[dict[str, CellValue]]:
    rows: list[dict[str, CellValue]] = []
    for n in range(1, 13):
        rows.append(
            {
                "code": f"ZG-B03-{n:03d}",
                "finding": f'第{n}项：台账不全 <缺&漏> "引号"',
                "measure": "建立台账，每月更新" if n != 5 else None,
                "deadline": date(2026, 6, n),
                "progress": "已部署" if n % 2 else None,
            }
        )
    rows[2]["finding"] = "=SUM(A1) 以等号开头\x01控制字符被丢弃 _x0041_"
    return rows


def expected_text(value: CellValue) -> CellValue:
    return value.replace("\x01", "") if isinstance(value, str) else value


@pytest.fixture(scope="module")
def template() -> bytes:
    context = TemplateContext(
        language="zh-CN", campaign_id="campaign", campaign_title="自查自纠",
        deliverable_id="rectify_progress", deliverable_title="整改进展月报", period="2026-05",
        due_text="2026年5月31日", coordinator_name="市纪委", coordinator_email="jw@jt.example",
    )  # fmt: skip
    master = MasterTemplate(build_master(FORM, context))
    return master.personalise("B03", "金城镇", sign(SECRET, master.identity("B03")))


@pytest.fixture(scope="module")
def filled(template: bytes) -> bytes:
    return prefilled(template, SHEET, items(), LOCKED, KEYS)


@pytest.fixture(scope="module")
def reader() -> Iterator[WorkbookReader]:
    with WorkbookReader(1) as shared:
        yield shared


def form_sheet(data: bytes) -> Worksheet:
    ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET]
    assert isinstance(ws, Worksheet)
    return ws


def as_date(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def check_values(rows: list[dict[str, Any]], wanted: list[dict[str, CellValue]]) -> None:
    """Rows as the validator keeps them (a date as its ISO text) against the rows written."""
    assert len(rows) == len(wanted)
    for got, row in zip(rows, wanted, strict=True):
        for key in KEYS:
            value = expected_text(row.get(key))
            expected = value.isoformat() if isinstance(value, date) else value
            assert got.get(key) == expected, (key, got)


def openpyxl_text(value: CellValue) -> CellValue:
    """openpyxl does not undo the _xHHHH_ escape in inline strings (Excel, LibreOffice and
    duban's reader do), so it shows the escaped form of a literal ``_x0041_``."""
    text = expected_text(value)
    return text.replace("_x0041_", "_x005F_x0041_") if isinstance(text, str) else text


def test_openpyxl_reads_the_values_and_the_locks(filled: bytes) -> None:
    ws = form_sheet(filled)
    assert ws.protection.sheet
    for offset, row in enumerate(items()):
        for index, key in enumerate(KEYS, start=1):
            cell = ws.cell(FIRST_DATA_ROW + offset, index)
            assert as_date(cell.value) == openpyxl_text(row.get(key)), cell.coordinate
            assert cell.protection.locked is (key in LOCKED), cell.coordinate
            if key in LOCKED:
                assert cell.fill.fgColor.rgb.endswith("EDEDED")
    deadline = ws.cell(FIRST_DATA_ROW, KEYS.index("deadline") + 1)
    assert isinstance(deadline.value, datetime)
    assert deadline.number_format != "General"
    below = ws.cell(FIRST_DATA_ROW + 12, 1)
    assert below.value is None
    assert below.protection.locked is False


def test_only_the_form_sheet_changes(template: bytes, filled: bytes) -> None:
    filler = SheetPrefiller(template, SHEET)
    assert filler.fill(template, [], LOCKED, KEYS) != b""
    import zipfile

    before = zipfile.ZipFile(io.BytesIO(template))
    after = zipfile.ZipFile(io.BytesIO(filled))
    changed = [n for n in before.namelist() if before.read(n) != after.read(n)]
    assert changed == [filler.path]


def test_duban_reads_and_validates_it(filled: bytes, reader: WorkbookReader) -> None:
    parsed = reader.read(filled, sniff(filled, "整改进展.xlsx"))
    assert parsed.metadata is not None
    assert parsed.metadata["unit_id"] == "B03"
    checked = validate_workbook(FORM, parsed.sheets, "1", parsed.uncomputed)
    assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
    check_values(checked.rows[SHEET], items())


def test_a_unit_fills_the_editable_cells(filled: bytes, reader: WorkbookReader) -> None:
    book = openpyxl.load_workbook(io.BytesIO(filled))
    ws = book[SHEET]
    assert isinstance(ws, Worksheet)
    wanted = items()
    for offset, row in enumerate(wanted):
        row.update(progress=f"进展{offset} <已&办>", claimed="已完成", evidence="见附件")
        for key in EDITABLE:
            ws.cell(FIRST_DATA_ROW + offset, KEYS.index(key) + 1, row[key])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    parsed = reader.read(data, sniff(data, "整改进展.xlsx"))
    checked = validate_workbook(FORM, parsed.sheets, "1", parsed.uncomputed)
    assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
    check_values(checked.rows[SHEET], wanted)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is absent")
def test_libreoffice_resaves_it(filled: bytes, reader: WorkbookReader, tmp_path: Path) -> None:
    assert SOFFICE is not None
    source = tmp_path / "in" / "prefilled.xlsx"
    source.parent.mkdir()
    source.write_bytes(filled)
    out = tmp_path / "out"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(source)],
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    copy = (out / "prefilled.xlsx").read_bytes()
    parsed = reader.read(copy, sniff(copy, "prefilled.xlsx"))
    checked = validate_workbook(FORM, parsed.sheets, "1", parsed.uncomputed)
    assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
    check_values(checked.rows[SHEET], items())
    ws = form_sheet(copy)
    assert ws.protection.sheet
    assert ws.cell(FIRST_DATA_ROW, 1).protection.locked is True
    assert ws.cell(FIRST_DATA_ROW, KEYS.index("progress") + 1).protection.locked is False


def test_too_many_rows_or_unknown_keys_are_refused(template: bytes) -> None:
    with pytest.raises(PrefillError, match="more rows"):
        prefilled(template, SHEET, [{"code": "x"}] * 41, LOCKED, KEYS)
    with pytest.raises(PrefillError, match="unknown keys"):
        prefilled(template, SHEET, [{"nope": "x"}], LOCKED, KEYS)
    with pytest.raises(PrefillError, match="no sheet"):
        prefilled(template, "其他", [], LOCKED, KEYS)
