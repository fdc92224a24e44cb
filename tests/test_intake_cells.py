"""Cells as the unit sees them: full-width labels, percentages, formulas without a saved
result, sheets beside the form, and files no reader here opens (issue 11).

Each workbook is the real template of the example campaign's quarterly progress report, filled
with openpyxl as Excel saves it, and read by the isolated workers the intake uses.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.template import MasterTemplate, TemplateContext, build_master
from duban.implement.intake.parse import percent_text
from duban.implement.intake.precheck import precheck
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reasons import FileRejected, describe
from duban.implement.intake.sniff import Kind, sniff
from duban.model.forms import Form
from duban.model.loader import CampaignBundle
from duban.model.validation import Checked, validate_workbook

from .test_intake_files import minimal_ods

ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:'
    'tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"'
    '/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)

SECRET = b"0123456789abcdef-cells-secret"
SHEET = "进展情况"
ROW: list[str | int] = [
    "推进政务服务“一网通办”", "已完成系统对接", 50, "无", "继续推进", "李四", "13800000000",
]  # fmt: skip


def progress_form(bundle: CampaignBundle) -> Form:
    """The progress form as a key task partner's template has it (the lead's adds 报送单位)."""
    campaign = bundle.campaign
    return campaign.form_of(campaign.deliverable("progress-parts"))


@pytest.fixture(scope="module")
def template(example_bundle: CampaignBundle) -> bytes:
    campaign = example_bundle.campaign
    context = TemplateContext(
        language="zh-CN", campaign_id=campaign.id, campaign_title=campaign.title,
        deliverable_id="progress-parts", deliverable_title="重点工作季度进展（配合单位报送）",
        period="2026-Q1",
        due_text="2026年3月25日", coordinator_name="市优化办",
        coordinator_email="youhuaban@jt.example", coordinator_phone=None,
    )  # fmt: skip
    master = MasterTemplate(build_master(progress_form(example_bundle), context))
    return master.personalise("T01", "金城镇", sign(SECRET, master.identity("T01")))


@pytest.fixture(scope="module")
def reader(example_bundle: CampaignBundle) -> Iterator[WorkbookReader]:
    with WorkbookReader.for_campaign(example_bundle.campaign, workers=1) as shared:
        yield shared


def filled(template: bytes, change: Callable[[openpyxl.Workbook, Worksheet], None]) -> bytes:
    """The template with one row of ``ROW`` typed in, then ``change`` applied."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book[SHEET]
    assert isinstance(sheet, Worksheet)
    for column, value in enumerate(ROW, start=1):
        sheet.cell(3, column, value)
    change(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_and_check(
    reader: WorkbookReader, bundle: CampaignBundle, data: bytes
) -> tuple[Checked, Any]:
    parsed = reader.read(data, sniff(data, "进展情况.xlsx"))
    checked = validate_workbook(progress_form(bundle), parsed.sheets, "1", parsed.uncomputed)
    return checked, parsed


def said(checked: Checked) -> list[str]:
    return [problem.describe("zh-CN") for problem in checked.problems]


# --- labels --------------------------------------------------------------------------------


def test_a_full_width_label_matches_itself_and_its_half_width_form(
    example_bundle: CampaignBundle,
) -> None:
    """The declared ``完成比例（%）`` is what the template writes; a program may store it as
    ``完成比例(%)``. Both are the same header (the label was once compared un-normalised)."""
    form = progress_form(example_bundle)
    labels = [column.label for column in form.sheets[0].columns]
    assert "完成比例（%）" in labels
    for header in (labels, [label.replace("（", "(").replace("）", ")") for label in labels]):
        grid: list[list[Any]] = [["标题"], list(header), ROW]
        checked = validate_workbook(form, {SHEET: grid}, "1")
        assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
        assert checked.rows[SHEET][0]["percent"] == 50


def test_a_wrong_header_is_named_with_what_was_found(example_bundle: CampaignBundle) -> None:
    form = progress_form(example_bundle)
    header = [column.label for column in form.sheets[0].columns]
    header[2] = "完成率"
    checked = validate_workbook(form, {SHEET: [["标题"], header, ROW]}, "1")
    assert said(checked) == [
        "进展情况!C2: 表头应为“完成比例（%）”，请不要修改表头（填写的是“完成率”）"
    ]


def test_a_choice_typed_in_full_width_is_the_declared_choice(
    example_bundle: CampaignBundle,
) -> None:
    form = example_bundle.campaign.form("summary")
    header = [column.label for column in form.sheets[0].columns]
    declared = form.sheets[0].columns[0].choices
    assert declared is not None
    grid = [["标题"], header, [" 主要做法 ", "内容"]]
    checked = validate_workbook(form, {"总结": grid}, "1")
    assert checked.valid
    assert checked.rows["总结"][0]["area"] == "主要做法"


# --- percentages ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "expected"), [(0.5, 50), (1, 100), (0.07, 7), (0, 0)], ids=str)
def test_a_percent_formatted_cell_is_the_percentage_the_unit_sees(
    example_bundle: CampaignBundle,
    template: bytes,
    reader: WorkbookReader,
    stored: float,
    expected: int,
) -> None:
    def as_percent(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = stored
        sheet["C3"].number_format = "0%"

    checked, parsed = read_and_check(reader, example_bundle, filled(template, as_percent))
    assert parsed.sheets[SHEET][2][2] == f"{expected}%"
    assert checked.valid, said(checked)
    assert checked.rows[SHEET][0]["percent"] == expected


def test_a_percentage_that_is_no_whole_number_is_quoted_as_the_unit_typed_it(
    example_bundle: CampaignBundle, template: bytes, reader: WorkbookReader
) -> None:
    def as_percent(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = 0.505
        sheet["C3"].number_format = "0.0%"

    checked, _ = read_and_check(reader, example_bundle, filled(template, as_percent))
    assert said(checked) == ["进展情况!C3: “完成比例（%）”应填写整数（填写的是“50.5%”）"]


def test_a_plain_number_stays_a_number(
    example_bundle: CampaignBundle, template: bytes, reader: WorkbookReader
) -> None:
    """0.5 without a percent format is 0.5 (and no whole number): nothing is guessed."""

    def plain(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = 0.5

    checked, parsed = read_and_check(reader, example_bundle, filled(template, plain))
    assert parsed.sheets[SHEET][2][2] == 0.5
    assert [p.code for p in checked.problems] == ["integer"]


def test_percent_text_has_no_binary_noise() -> None:
    assert [percent_text(v) for v in (0.5, 0.07, 1, 0.125, 1.5, 0.0001)] == [
        "50%", "7%", "100%", "12.5%", "150%", "0.01%",
    ]  # fmt: skip


# --- formulas ------------------------------------------------------------------------------


def test_a_formula_without_a_saved_result_is_named_as_such(
    example_bundle: CampaignBundle, template: bytes, reader: WorkbookReader
) -> None:
    """openpyxl (like many scripts and converters) writes formulas without a cached value:
    every reader sees an empty cell, but the unit filled it."""

    def formulas(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = "=40+10"
        for column, value in enumerate(ROW, start=1):  # a second row typed only as formulas
            sheet.cell(4, column, f'="{value}"' if column != 3 else "=25*2")

    checked, parsed = read_and_check(reader, example_bundle, filled(template, formulas))
    assert parsed.uncomputed[SHEET][0] == (2, 2)
    problems = said(checked)
    assert len(problems) == 8  # C3, and all seven cells of row 4
    assert problems[0].startswith(
        "进展情况!C3: “完成比例（%）”填的是公式，但文件中没有保存公式的计算结果"
    )
    assert "必填" not in "".join(problems)
    assert {p.cell for p in checked.problems} == {"C3"} | {f"{c}4" for c in "ABCDEFG"}


def test_the_workers_validation_sees_the_formulas_too(
    example_bundle: CampaignBundle, template: bytes, reader: WorkbookReader
) -> None:
    """The worker validates against the form its metadata names: with the same verdict."""

    def formula(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = "=40+10"

    data = filled(template, formula)
    parsed = reader.read(data, Kind.XLSX)
    assert parsed.prevalidated is not None
    assert [p.code for p in parsed.prevalidated.checked.problems] == ["uncomputed"]


# --- sheets beside the form ----------------------------------------------------------------


@pytest.mark.parametrize(("rows", "cols"), [(192, 74), (832, 23), (1000, 100)])
def test_a_big_honest_sheet_beside_the_form_is_read_and_ignored(
    example_bundle: CampaignBundle,
    template: bytes,
    reader: WorkbookReader,
    rows: int,
    cols: int,
) -> None:
    """Notes or a pasted table beside the form: neither a bomb nor a problem (such replies
    were once quarantined, the limits following the form's size)."""

    def notes(book: openpyxl.Workbook, _: Worksheet) -> None:
        extra = book.create_sheet("备注")
        for row in range(1, rows + 1):
            extra.append([f"说明{row}-{col}" for col in range(cols)])

    data = filled(template, notes)
    precheck(data, Kind.XLSX)
    checked, parsed = read_and_check(reader, example_bundle, data)
    assert len(parsed.sheets["备注"]) == rows
    assert checked.valid, said(checked)
    assert parsed.prevalidated is not None
    assert parsed.prevalidated.checked.valid


# --- files no reader opens -----------------------------------------------------------------


def xlsb() -> bytes:
    """The package an Excel binary workbook is: its content type names the binary format."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Override PartName="/xl/workbook.bin" ContentType="application/'
        'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return out.getvalue()


def protected_ods() -> bytes:
    """An OpenDocument spreadsheet saved with a password: its manifest declares encryption."""
    manifest = (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1"/>'
        "</manifest:file-entry></manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", b"\x8f\x11encrypted bytes")
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "kind", "code", "advice"),
    [
        (xlsb, Kind.XLSB, "xlsb", "另存为"),
        (protected_ods, Kind.ENCRYPTED, "encrypted", "取消密码"),
    ],
    ids=["xlsb", "protected-ods"],
)
def test_a_workbook_no_reader_opens_is_named_for_what_it_is(
    make: Callable[[], bytes], kind: Kind, code: str, advice: str, reader: WorkbookReader
) -> None:
    data = make()
    assert sniff(data, "报表.xlsx") is kind
    with pytest.raises(FileRejected) as caught:
        precheck(data, kind)
    assert caught.value.code == code
    with pytest.raises(FileRejected) as read:
        reader.read(data, kind)
    assert read.value.code == code
    assert advice in describe(code, {}, "zh-CN")


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_a_percentage_survives_libreoffice_in_every_format(
    example_bundle: CampaignBundle,
    template: bytes,
    reader: WorkbookReader,
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
) -> None:
    """LibreOffice keeps the percent format as each format stores it (a style in xlsx, a
    format record in xls, a value type in ods): each reads as the percentage."""

    def as_percent(_: openpyxl.Workbook, sheet: Worksheet) -> None:
        sheet["C3"].value = 0.8
        sheet["C3"].number_format = "0%"

    data = resaved(filled(template, as_percent), fmt, tmp_path_factory.mktemp(fmt))
    checked, parsed = read_and_check(reader, example_bundle, data)
    assert parsed.sheets[SHEET][2][2] == "80%"
    assert checked.valid, said(checked)
    assert checked.rows[SHEET][0]["percent"] == 80


def resaved(data: bytes, fmt: str, folder: Path) -> bytes:
    soffice = shutil.which("soffice")
    assert soffice is not None, "LibreOffice is installed by `make services`"
    source = folder / "进展情况.xlsx"
    source.write_bytes(data)
    subprocess.run(
        [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
         "--convert-to", fmt, "--outdir", str(folder / "out"), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return (folder / "out" / f"进展情况.{fmt}").read_bytes()


def test_an_ods_formula_without_a_value_is_named(reader: WorkbookReader) -> None:
    cells = (
        b'<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p>'
        b'</table:table-cell><table:table-cell table:number-columns-repeated="2" '
        b'table:formula="of:=1+1"/><table:table-cell office:value-type="percentage" '
        b'office:value="0.25"/></table:table-row>'
    )
    data = minimal_ods(cells)
    with_manifest = io.BytesIO()  # calamine needs the manifest to take it for a spreadsheet
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(with_manifest, "w") as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("META-INF/manifest.xml", ODS_MANIFEST)
    parsed = reader.read(with_manifest.getvalue(), Kind.ODS)
    assert parsed.uncomputed == {"Sheet1": [(0, 1), (0, 2)]}
    assert parsed.sheets["Sheet1"][0][3] == "25%"
