"""Templates for the mobilize stage: the master, per-unit copies, and the metadata read back."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import TemplateIdentity, WorkbookError, sign, verify
from duban.adapters.xlsx.layout import METADATA_KEYS, METADATA_SHEET
from duban.adapters.xlsx.master import MasterTemplateError
from duban.adapters.xlsx.template import (
    MasterTemplate,
    TemplateContext,
    build_master,
    identity_of,
    read_metadata,
)
from duban.model.forms import FIRST_DATA_ROW, HEADER_ROW, Column, Form, Sheet
from duban.model.loader import CampaignBundle

SECRET = b"0123456789abcdef-test-secret"
NAMES = [
    "金城镇",
    "市发展和改革委员会（市物价局）",
    "A&B <公司> \"引号\" '单引号'",
    "  前后有空格的单位  ",
    "第一行\n第二行",
    "字面的 _x0041_ 不是转义",
    '=HYPERLINK("http://x.example")',
]


def context_for(bundle: CampaignBundle, **changes: object) -> TemplateContext:
    campaign = bundle.campaign
    coordinator = campaign.roles.coordinator
    values: dict[str, object] = {
        "language": campaign.language,
        "campaign_id": campaign.id,
        "campaign_title": campaign.title,
        "deliverable_id": "plan",
        "deliverable_title": "实施方案",
        "period": "once",
        "due_text": "2026年3月5日（星期四）24:00前",
        "coordinator_name": coordinator.name,
        "coordinator_email": str(coordinator.email),
        "coordinator_phone": coordinator.phone,
        "template_version": 1,
    }
    values.update(changes)
    return TemplateContext(**values)  # type: ignore[arg-type]


def form(bundle: CampaignBundle, form_id: str) -> Form:
    return next(f for f in bundle.campaign.forms if f.id == form_id)


@pytest.fixture(scope="module")
def plan_master(example_bundle: CampaignBundle) -> MasterTemplate:
    return MasterTemplate(build_master(form(example_bundle, "plan"), context_for(example_bundle)))


def personalised(master: MasterTemplate, unit_id: str, unit_name: str) -> bytes:
    return master.personalise(unit_id, unit_name, sign(SECRET, master.identity(unit_id)))


def load(data: bytes) -> Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet(wb: Workbook, name: str) -> Worksheet:
    ws = wb[name]
    assert isinstance(ws, Worksheet)
    return ws


def validation_at(ws: Worksheet, cell: str) -> DataValidation:
    found: list[DataValidation] = [
        dv for dv in ws.data_validations.dataValidation if cell in dv.sqref
    ]
    assert len(found) == 1, f"{len(found)} validations cover {cell}"
    return found[0]


def replace_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == name else src.read(info))
    return out.getvalue()


def metadata_sheet_part(data: bytes) -> str:
    """The zip member of the _duban sheet: the last sheet openpyxl wrote."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    return sheets[-1]


# --- metadata round trip -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_metadata_round_trips_unit_names(plan_master: MasterTemplate, name: str) -> None:
    data = personalised(plan_master, "T01", name)
    meta = read_metadata(data)
    assert meta["unit_id"] == "T01"
    assert meta["unit_name"] == name
    assert meta["campaign"] == "nlzf-2026"
    assert meta["deliverable"] == "plan"
    assert meta["period"] == "once"
    assert meta["template_version"] == "1"
    assert meta["form_id"] == "plan"
    assert list(meta) == list(METADATA_KEYS)


@pytest.mark.parametrize("name", NAMES)
def test_openpyxl_shows_the_unit_name_in_the_title(plan_master: MasterTemplate, name: str) -> None:
    wb = load(personalised(plan_master, "T01", name))
    title = sheet(wb, "实施方案")["A1"].value
    assert isinstance(title, str)
    assert title.startswith("能力作风建设提升年活动实施方案（任务分解表）\n填报单位：")
    # openpyxl keeps a literal _x0041_ but decodes _x005F_ differently from Excel: skip it.
    if "_x" not in name:
        assert title.endswith(name)
    assert sheet(wb, METADATA_SHEET)["B5"].value == name


def test_thirty_units_get_thirty_distinct_files(
    example_bundle: CampaignBundle, plan_master: MasterTemplate
) -> None:
    units = example_bundle.units[:30]
    assert len(units) == 30
    files = [personalised(plan_master, u.id, u.name) for u in units]
    assert len(set(files)) == 30
    for unit, data in zip(units, files, strict=True):
        meta = read_metadata(data)
        assert (meta["unit_id"], meta["unit_name"]) == (unit.id, unit.name)
        assert verify(SECRET, identity_of(meta), meta["token"])


def test_copies_differ_from_the_master_only_in_shared_strings(plan_master: MasterTemplate) -> None:
    a = zipfile.ZipFile(io.BytesIO(personalised(plan_master, "T01", "金城镇")))
    b = zipfile.ZipFile(io.BytesIO(personalised(plan_master, "T02", "儒林镇")))
    assert a.namelist() == b.namelist()
    differing = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert differing == ["xl/sharedStrings.xml"]
    assert a.testzip() is None
    assert b.testzip() is None


# --- tokens ----------------------------------------------------------------------------------


def test_token_verifies_only_for_its_identity() -> None:
    identity = TemplateIdentity("nlzf-2026", "plan", "once", "T01", 1)
    token = sign(SECRET, identity)
    assert len(token) == 32
    assert int(token, 16) >= 0
    assert verify(SECRET, identity, token)
    others = [
        TemplateIdentity("nlzf-2026", "plan", "once", "T02", 1),
        TemplateIdentity("nlzf-2026", "plan", "2026-Q1", "T01", 1),
        TemplateIdentity("nlzf-2026", "plan", "once", "T01", 2),
        TemplateIdentity("nlzf-2026", "summary", "once", "T01", 1),
        TemplateIdentity("other", "plan", "once", "T01", 1),
    ]
    for other in others:
        assert not verify(SECRET, other, token)
    assert not verify(SECRET + b"x", identity, token)
    forged = ("0" if token[0] != "0" else "1") + token[1:]
    assert not verify(SECRET, identity, forged)
    assert not verify(SECRET, identity, token.upper() if token != token.upper() else "x" * 32)
    assert not verify(SECRET, identity, token[:-1])
    assert not verify(SECRET, identity, "")
    assert not verify(SECRET, identity, "令" * 32)


def test_canonical_form_is_unambiguous() -> None:
    a = TemplateIdentity("c", "d|e", "p", "u", 1)
    b = TemplateIdentity("c|d", "e", "p", "u", 1)
    assert a.canonical() != b.canonical()
    assert sign(SECRET, a) != sign(SECRET, b)


def test_token_rules() -> None:
    identity = TemplateIdentity("c", "d", "p", "u", 1)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign(b"short", identity)
    with pytest.raises(ValueError, match="template_version"):
        TemplateIdentity("c", "d", "p", "u", True)
    with pytest.raises(ValueError, match="unit_id"):
        TemplateIdentity("c", "d", "p", "", 1)


def test_token_read_from_a_file_detects_a_swapped_unit(plan_master: MasterTemplate) -> None:
    genuine = read_metadata(personalised(plan_master, "T01", "金城镇"))
    assert verify(SECRET, identity_of(genuine), genuine["token"])
    # A unit copies its token into a file claiming to be another unit's.
    stolen = plan_master.personalise("T02", "儒林镇", genuine["token"])
    meta = read_metadata(stolen)
    assert not verify(SECRET, identity_of(meta), meta["token"])


# --- what openpyxl sees ------------------------------------------------------------------------


def test_dropdown_values_are_inline(plan_master: MasterTemplate) -> None:
    ws = sheet(load(personalised(plan_master, "T01", "金城镇")), "实施方案")
    dv = validation_at(ws, "A3")
    assert dv.type == "list"
    assert str(dv.sqref) == f"A{FIRST_DATA_ROW}:A{FIRST_DATA_ROW + 99}"
    assert dv.formula1 == '"教育培训,提速增效,执行力强化,重点项目推进,作风整顿"'
    assert dv.showErrorMessage
    assert dv.promptTitle == "工作类别"
    assert dv.prompt is not None
    assert "必填" in dv.prompt
    assert "_lists" not in load(personalised(plan_master, "T01", "金城镇")).sheetnames


def test_date_and_text_length_validations(plan_master: MasterTemplate) -> None:
    ws = sheet(load(personalised(plan_master, "T01", "金城镇")), "实施方案")
    date = validation_at(ws, "G3")
    assert (date.type, date.operator) == ("date", "between")
    assert ws["G3"].number_format == "yyyy-mm-dd"
    task = validation_at(ws, "B3")
    assert (task.type, task.operator, task.formula1) == ("textLength", "lessThanOrEqual", "200")
    phone = validation_at(ws, "F3")
    assert phone.prompt is not None
    assert "电话" in phone.prompt
    assert ws["F3"].number_format == "@"


def test_integer_validation(example_bundle: CampaignBundle) -> None:
    context = context_for(example_bundle, deliverable_id="progress", period="2026-Q1")
    master = MasterTemplate(build_master(form(example_bundle, "progress"), context))
    ws = sheet(load(personalised(master, "B03", "市委组织部")), "进展情况")
    percent = validation_at(ws, "C3")
    assert (percent.type, percent.operator) == ("whole", "between")
    assert (percent.formula1, percent.formula2) == ("0", "100")
    assert percent.error is not None
    assert "0至100" in percent.error
    assert ws["C3"].number_format == "0"
    assert read_metadata(personalised(master, "B03", "市委组织部"))["period"] == "2026-Q1"


def test_protection_panes_merges_and_hidden_metadata(plan_master: MasterTemplate) -> None:
    wb = load(personalised(plan_master, "T01", "金城镇"))
    assert wb.sheetnames == ["填报说明", "实施方案", METADATA_SHEET]
    assert wb.active is not None
    assert wb.active.title == "填报说明"
    assert wb.security is not None
    assert wb.security.lockStructure
    ws = sheet(wb, "实施方案")
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:G1"]
    assert ws.protection.sheet
    assert not ws.protection.formatCells
    assert not ws.protection.insertRows
    assert ws.cell(HEADER_ROW, 1).value == "工作类别"
    assert ws.cell(HEADER_ROW, 1).protection.locked
    assert ws.cell(HEADER_ROW, 1).font.b
    assert not ws.cell(FIRST_DATA_ROW, 1).protection.locked
    assert not ws.cell(FIRST_DATA_ROW + 99, 7).protection.locked
    assert ws.cell(FIRST_DATA_ROW + 100, 1).protection.locked
    assert ws.column_dimensions["C"].width == 50
    meta = sheet(wb, METADATA_SHEET)
    assert meta.sheet_state == "veryHidden"
    assert meta.protection.sheet
    assert sheet(wb, "填报说明").protection.sheet


def test_a_copy_survives_openpyxl_load_and_save(plan_master: MasterTemplate) -> None:
    buffer = io.BytesIO()
    load(personalised(plan_master, "T01", "金城镇")).save(buffer)
    resaved = buffer.getvalue()
    assert read_metadata(resaved)["unit_name"] == "金城镇"
    wb = load(resaved)
    assert sheet(wb, METADATA_SHEET).sheet_state == "veryHidden"
    assert validation_at(sheet(wb, "实施方案"), "A3").type == "list"


def test_instructions_name_deadline_and_contact(plan_master: MasterTemplate) -> None:
    ws = sheet(load(personalised(plan_master, "T07", "后阳镇")), "填报说明")
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for expected in (
        "2026年“能力作风建设提升年”活动",
        "2026年3月5日（星期四）24:00前",
        "后阳镇",
        "youhuaban@jt.example",
        "0519-82812345",
        "回复通知邮件",
        "工作表「实施方案」",
        "至少填写3行",
    ):
        assert expected in text


def a_form(**sheet_changes: object) -> Form:
    long_choices = [f"第{i}类：较长的选项名称，用于超过内联长度" for i in range(20)]
    columns = [
        Column(key="kind", label="类别", type="choice", choices=long_choices, help="按实际选择"),
        Column(key="amount", label="金额（万元）", type="decimal", min=Decimal("0.5")),
        Column(key="email", label="邮箱", type="email", help="单位公务邮箱"),
        Column(key="note", label="备注"),
    ]
    values: dict[str, object] = {"name": "明细", "columns": columns, "max_rows": 10}
    values.update(sheet_changes)
    return Form(id="detail", title="明细表", sheets=[Sheet(**values)])


def test_long_choice_lists_go_to_a_hidden_list_sheet(example_bundle: CampaignBundle) -> None:
    master = MasterTemplate(build_master(a_form(), context_for(example_bundle)))
    wb = load(personalised(master, "T01", "金城镇"))
    lists = sheet(wb, "_lists")
    assert lists.sheet_state == "hidden"
    assert lists["A1"].value == "第0类：较长的选项名称，用于超过内联长度"
    ws = sheet(wb, "明细")
    kind = validation_at(ws, "A3")
    assert (kind.type, kind.formula1) == ("list", "'_lists'!$A$1:$A$20")
    assert kind.prompt is not None
    assert kind.prompt.startswith("选填；按实际选择；从下拉列表中选择：第0类")
    assert len(kind.prompt) <= 255
    amount = validation_at(ws, "B3")
    assert (amount.type, amount.operator, amount.formula1) == (
        "decimal",
        "greaterThanOrEqual",
        "0.5",
    )
    email = validation_at(ws, "C3")
    assert email.prompt is not None
    assert "单位公务邮箱" in email.prompt
    note = validation_at(ws, "D3")
    assert note.type is None
    assert note.prompt == "选填"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:D1"]


def test_english_template_and_formula_like_text_stays_text(example_bundle: CampaignBundle) -> None:
    context = context_for(example_bundle, language="en", campaign_title="=1+1 campaign")
    master = MasterTemplate(build_master(form(example_bundle, "summary"), context))
    wb = load(personalised(master, "T01", "=SUM(A1)"))
    ws = sheet(wb, "Instructions")
    assert ws["A1"].value == "=1+1 campaign"
    assert ws["A1"].data_type == "s"
    assert sheet(wb, "总结")["A1"].value == "年度活动总结\nUnit: =SUM(A1)"
    assert sheet(wb, "总结")["A1"].data_type == "s"


def test_reserved_sheet_names_are_refused(example_bundle: CampaignBundle) -> None:
    with pytest.raises(WorkbookError, match="reserved"):
        build_master(a_form(name="_DUBAN"), context_for(example_bundle))


def test_context_rules(example_bundle: CampaignBundle) -> None:
    with pytest.raises(ValueError, match="language"):
        context_for(example_bundle, language="fr")
    with pytest.raises(ValueError, match="template_version"):
        context_for(example_bundle, template_version=0)


# --- personalisation guards ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_id", "name", "token"),
    [("T01", "坏\x00名字", "t"), ("T01", "", "t"), ("", "名字", "t"), ("T01", "名字", " ")],
)
def test_values_a_workbook_cannot_hold_are_refused(
    plan_master: MasterTemplate, unit_id: str, name: str, token: str
) -> None:
    with pytest.raises(ValueError, match=r"unit_name|unit_id|token"):
        plan_master.personalise(unit_id, name, token)


def test_a_personalised_file_is_not_a_master(plan_master: MasterTemplate) -> None:
    with pytest.raises(MasterTemplateError, match="placeholder"):
        MasterTemplate(personalised(plan_master, "T01", "金城镇"))


# --- read_metadata on other producers and on bad files ----------------------------------------

INLINE_ROWS = [
    # keys inline, values in every form another producer may write
    ("campaign", '<c t="inlineStr"><is><t>nlzf-2026</t></is></c>'),
    ("deliverable", '<c t="str"><f>"pl"&amp;"an"</f><v>plan</v></c>'),
    ("period", '<c t="inlineStr"><is><t>once</t></is></c>'),
    ("unit_id", '<c t="inlineStr"><is><r><t>T0</t></r><r><t>1</t></r><rPh><t>x</t></rPh></is></c>'),
    ("unit_name", '<c t="inlineStr"><is><t>A&amp;B &lt;镇&gt;</t></is></c>'),
    ("template_version", "<c><v>1</v></c>"),
    ("form_id", '<c t="s"><v>0</v></c>'),
    ("token", '<c t="s"><v>{token_index}</v></c>'),
]


def inline_sheet(rows: list[tuple[str, str]], token_index: int) -> bytes:
    """A metadata sheet without cell references, as a hand-made or converted file has."""
    body = "".join(
        f'<row><c t="inlineStr"><is><t>{key}</t></is></c>{value}</row>' for key, value in rows
    )
    return (
        (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{body}</sheetData></worksheet>"
        )
        .replace("{token_index}", str(token_index))
        .encode()
    )


def test_inline_formula_and_rich_strings_are_read(plan_master: MasterTemplate) -> None:
    data = personalised(plan_master, "T01", "金城镇")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        shared = archive.read("xl/sharedStrings.xml").decode()
    token_index = shared.count("<si>") - 1  # openpyxl wrote the token last
    edited = inline_sheet(INLINE_ROWS, token_index)
    meta = read_metadata(replace_member(data, metadata_sheet_part(data), edited))
    assert meta["deliverable"] == "plan"
    assert meta["unit_id"] == "T01"
    assert meta["unit_name"] == "A&B <镇>"
    assert meta["template_version"] == "1"
    assert meta["token"] == read_metadata(data)["token"]
    assert meta["form_id"] == "金城镇"  # shared string 0 is the unit name: read as written


def test_unreadable_files_raise_plain_workbook_errors(plan_master: MasterTemplate) -> None:
    data = personalised(plan_master, "T01", "金城镇")
    part = metadata_sheet_part(data)
    plain_workbook = io.BytesIO()
    openpyxl.Workbook().save(plain_workbook)
    cases = {
        "empty": (b"", "empty"),
        "text": (b"just text", "not a zip"),
        "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, ".xls"),
        "truncated": (data[: len(data) // 2], "not a zip"),
        "no metadata": (plain_workbook.getvalue(), "no duban metadata sheet"),
        "dtd": (
            replace_member(data, part, b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'),
            "DTD",
        ),
        "bad xml": (replace_member(data, part, b"<worksheet><sheetData>"), "not well-formed"),
        "no keys": (
            replace_member(data, part, b"<worksheet><sheetData/></worksheet>"),
            "missing",
        ),
        "no workbook": (replace_member(data, "xl/workbook.xml", b""), "not well-formed"),
    }
    for label, (content, reason) in cases.items():
        with pytest.raises(WorkbookError, match=reason) as raised:
            read_metadata(content)
        assert str(raised.value), label


def test_a_repeated_key_is_refused(plan_master: MasterTemplate) -> None:
    data = personalised(plan_master, "T01", "金城镇")
    twice = inline_sheet([*INLINE_ROWS, ("unit_id", '<c t="inlineStr"><is><t>T02</t></is></c>')], 0)
    with pytest.raises(WorkbookError, match="appears twice"):
        read_metadata(replace_member(data, metadata_sheet_part(data), twice))


def test_sheets_print_one_page_wide_with_their_header(plan_master: MasterTemplate) -> None:
    wb = load(personalised(plan_master, "T01", "金城镇"))
    instructions, form_sheet = sheet(wb, "填报说明"), sheet(wb, "实施方案")
    for ws in (instructions, form_sheet):
        assert ws.page_setup.paperSize == 9
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr is not None
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert form_sheet.page_setup.orientation == "landscape"
    assert instructions.page_setup.orientation == "portrait"
    assert form_sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert form_sheet.print_area == f"'实施方案'!$A$1:$G${FIRST_DATA_ROW + 99}"
    assert instructions.print_area == f"'填报说明'!$A$1:$B${instructions.max_row}"


def test_instruction_rows_are_tall_enough_for_their_wrapped_text(
    plan_master: MasterTemplate,
) -> None:
    ws = sheet(load(personalised(plan_master, "T01", "金城镇")), "填报说明")
    how = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "报送方式")
    assert ws.cell(how, 2).alignment.wrap_text
    assert ws.row_dimensions[how].height == 30  # two lines of 15 pt at 72 characters
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["B"].width) == (16, 72)
