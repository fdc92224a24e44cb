"""Cell-by-cell validation: each problem names sheet, cell, what was found and what was expected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.prevalidate import FormsByDeliverable, Prevalidated, decode, encode
from duban.implement.intake.sniff import Kind
from duban.implement.intake.submitting import validation_of
from duban.model.forms import Column
from duban.model.loader import CampaignBundle
from duban.model.validation import Checked, check_cell, validate_workbook


def plan_grid(bundle: CampaignBundle, rows: list[list[Any]]) -> dict[str, list[list[Any]]]:
    form = bundle.campaign.form("plan")
    header = [c.label for c in form.sheets[0].columns]
    return {"实施方案": [["title"], header, *rows]}


GOOD = [
    "教育培训",
    "组织全员培训",
    "每月一次专题学习",
    "办公室",
    "张三",
    "13800000000",
    "2026-04-30",
]


def test_a_good_plan_is_valid_and_normalised(example_bundle: CampaignBundle) -> None:
    as_read = datetime(2026, 6, 30)  # noqa: DTZ001 (spreadsheet cells hold naive times)
    rows: list[list[Any]] = [GOOD, [*GOOD[:6], as_read], [], [*GOOD[:5], 13900000000.0, 46203.0]]
    checked = validate_workbook(
        example_bundle.campaign.form("plan"), plan_grid(example_bundle, rows), "1"
    )
    assert checked.problems == []
    assert checked.row_count == 3  # the blank row is skipped
    first, second, third = checked.rows["实施方案"]
    assert first["deadline"] == "2026-04-30"
    assert second["deadline"] == "2026-06-30"
    assert third["phone"] == "13900000000"  # a phone typed as a number
    assert third["deadline"] == "2026-06-30"  # an Excel date serial


def test_problems_name_sheet_cell_found_and_expected(example_bundle: CampaignBundle) -> None:
    rows = [
        ["教育培训", "", "措施", "办公室", "张三", "12", "2026-02-30"],
        ["作风建设", "任务", "措施", "办公室", "张三", "13800000000", "明年"],
        GOOD,
    ]
    checked = validate_workbook(
        example_bundle.campaign.form("plan"), plan_grid(example_bundle, rows), "1"
    )
    messages = [p.describe("zh-CN") for p in checked.problems]
    assert messages == [
        "实施方案!B3: “工作任务”为必填项，不能为空",
        "实施方案!F3: “联系电话”应填写电话号码，如 13800000000 或 0519-82812345（填写的是“12”）",
        "实施方案!G3: “完成时限”应填写日期，如 2026-03-05（填写的是“2026-02-30”）",
        "实施方案!A4: “工作类别”应从下拉列表中选择：教育培训、提速增效、执行力强化、重点项目推进、"
        "作风整顿（填写的是“作风建设”）",
        "实施方案!G4: “完成时限”应填写日期，如 2026-03-05（填写的是“明年”）",
    ]
    english = checked.problems[0].describe("en")
    assert english == "实施方案!B3: “工作任务” is required"


def test_header_version_sheet_and_row_limits(example_bundle: CampaignBundle) -> None:
    grid = plan_grid(example_bundle, [GOOD])
    grid["实施方案"][1][1] = "任务"
    checked = validate_workbook(example_bundle.campaign.form("plan"), grid, "0")
    codes = {(p.code, p.cell) for p in checked.problems}
    assert ("header", "B2") in codes
    assert ("version", None) in codes
    assert ("min_rows", None) in codes
    missing = validate_workbook(example_bundle.campaign.form("plan"), {"Sheet1": []}, "1")
    assert [p.code for p in missing.problems] == ["missing-sheet"]


@pytest.mark.parametrize(
    ("column", "value", "normal", "code"),
    [
        (Column(key="n", label="完成比例", type="integer", min=0, max=100), "８０", 80, None),
        (Column(key="n", label="完成比例", type="integer", min=0, max=100), "80%", 80, None),
        (Column(key="n", label="完成比例", type="integer", min=0, max=100), 101, None, "max"),
        (Column(key="n", label="完成比例", type="integer"), 2.5, None, "integer"),
        (Column(key="d", label="金额", type="decimal"), "1,234.50", "1234.5", None),
        (Column(key="d", label="金额", type="decimal"), 100000.0, "100000", None),
        (Column(key="d", label="金额", type="decimal"), "1.50E+2", "150", None),
        (Column(key="d", label="金额", type="decimal"), "NaN", None, "decimal"),
        (Column(key="t", label="日期", type="date"), "2026年3月5日", "2026-03-05", None),
        (Column(key="t", label="日期", type="date"), "2026/3/5", "2026-03-05", None),
        (Column(key="e", label="邮箱", type="email"), "a@jt.example", "a@jt.example", None),
        (Column(key="e", label="邮箱", type="email"), "a@", None, "email"),
        (Column(key="p", label="电话", type="phone"), "0519-82812345", "0519-82812345", None),
        (Column(key="x", label="说明", max_length=3), "四个字的", None, "max_length"),
        (Column(key="x", label="说明", required=True), "   ", None, "required"),
        (Column(key="x", label="说明"), None, None, None),
    ],
)
def test_cell_rules(column: Column, value: Any, normal: Any, code: str | None) -> None:
    got, problem = check_cell("表", "C3", column, value)
    assert got == normal
    assert (problem.code if problem else None) == code


# --- validation in the workers (intake.prevalidate) -----------------------------------------


def test_a_worker_checks_against_the_form_its_metadata_names(
    example_bundle: CampaignBundle,
) -> None:
    forms = FormsByDeliverable.of(example_bundle.campaign)
    grid = plan_grid(example_bundle, [GOOD, [*GOOD[:6], "明年"], GOOD])
    metadata = {"campaign": example_bundle.campaign.id, "deliverable": "plan",
                "template_version": "1"}  # fmt: skip

    result = forms.check(metadata, grid)

    assert result is not None
    here = validate_workbook(example_bundle.campaign.form("plan"), grid, "1")
    assert result == Prevalidated("plan", "1", here)
    assert [(p.cell, p.code) for p in result.checked.problems] == [("G4", "date")]
    assert forms.check({**metadata, "template_version": "0"}, grid) == Prevalidated(
        "plan", "0", validate_workbook(example_bundle.campaign.form("plan"), grid, "0")
    )
    assert forms.check({**metadata, "campaign": "another-year"}, grid) is None
    assert forms.check({**metadata, "deliverable": "no-such"}, grid) is None
    assert forms.check(None, grid) is None


def test_a_workers_result_crosses_as_plain_values_and_nothing_else(
    example_bundle: CampaignBundle,
) -> None:
    forms = FormsByDeliverable.of(example_bundle.campaign)
    metadata = {"campaign": example_bundle.campaign.id, "deliverable": "plan",
                "template_version": "1"}  # fmt: skip
    result = forms.check(metadata, plan_grid(example_bundle, [[*GOOD[:6], "明年"], GOOD]))
    plain = encode(result)

    assert decode(plain) == result
    assert decode(None) is None
    assert encode(None) is None
    broken: list[object] = [
        "plan",
        ("plan", "1", {}),
        ("plan", 1, {}, []),
        ("plan", "1", {"实施方案": ["not a row"]}, []),
        ("plan", "1", {}, [("实施方案", "G3", "date", None)]),
        ("plan", "1", {}, [("实施方案", 3, "date", None, {})]),
    ]
    for value in broken:
        with pytest.raises(ValueError, match="malformed"):
            decode(value)


def test_intake_trusts_a_workers_result_only_for_the_verified_deliverable_and_version(
    example_bundle: CampaignBundle,
) -> None:
    form = example_bundle.campaign.form("plan")
    grid = plan_grid(example_bundle, [[*GOOD[:6], "明年"], GOOD, GOOD])
    claimed_valid = Checked({"实施方案": []}, [])
    for deliverable, version in (("plan", "2"), ("progress", "1")):
        parsed = ParsedWorkbook(
            Kind.XLSX, {}, grid, Prevalidated(deliverable, version, claimed_valid)
        )
        checked = validation_of(form, "plan", "1", parsed)
        assert [(p.cell, p.code) for p in checked.problems] == [("G3", "date")]
    parsed = ParsedWorkbook(Kind.XLSX, {}, grid, Prevalidated("plan", "1", claimed_valid))
    assert validation_of(form, "plan", "1", parsed) is claimed_valid
