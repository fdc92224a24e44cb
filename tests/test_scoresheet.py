"""The inspection scoresheet (督查评分表, issue 16 item 4): the checklist becomes a two-sheet
form; each unit's copy is signed and pre-filled with the checklist's items, locked; a team's
filled copy reads back through duban's reader and validator."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.prefill import prefilled
from duban.adapters.xlsx.template import MasterTemplate, TemplateContext, build_master
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.sniff import sniff
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.model.scoresheets import PREFILLED_KEYS, SCORE_KEYS, prefill_rows, scoresheet_form
from duban.model.validation import validate_workbook

SECRET = b"0123456789abcdef-scoresheet-secret"


@pytest.fixture(scope="module")
def reader() -> Iterator[WorkbookReader]:
    with WorkbookReader(1) as shared:
        yield shared


@pytest.fixture
def sheet_bytes(example_bundle: CampaignBundle) -> bytes:
    checklist = example_bundle.campaign.checklist("quarterly")
    form = scoresheet_form(checklist, "zh-CN")
    context = TemplateContext(
        language="zh-CN", campaign_id="nlzf-2026", campaign_title="能力作风建设提升年",
        deliverable_id="inspect-quarterly", deliverable_title="季度常规督查", period="2026-Q2",
        due_text="2026年6月12日", coordinator_name="市优化办", coordinator_email="y@jt.example",
    )  # fmt: skip
    master = MasterTemplate(build_master(form, context))
    copy = master.personalise("T01", "金城镇", sign(SECRET, master.identity("T01")))
    return prefilled(copy, "评分", prefill_rows(checklist), set(PREFILLED_KEYS), SCORE_KEYS)


def fill(data: bytes, scores: list[float | None], findings: list[tuple[str | None, ...]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws, found = book["评分"], book["发现问题"]
    assert isinstance(ws, Worksheet)
    assert isinstance(found, Worksheet)
    for offset, score in enumerate(scores):
        ws.cell(FIRST_DATA_ROW + offset, SCORE_KEYS.index("score") + 1, score)
        if score is not None:
            ws.cell(FIRST_DATA_ROW + offset, SCORE_KEYS.index("reason") + 1, "扣分理由")
    return with_findings(book, found, findings)


def with_findings(
    book: openpyxl.Workbook, found: Worksheet, findings: Sequence[tuple[Any, ...]]
) -> bytes:
    """The workbook's bytes with ``findings`` written on the findings sheet, a row each."""
    for offset, row in enumerate(findings):
        for column, value in enumerate(row, start=1):
            found.cell(FIRST_DATA_ROW + offset, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_items_are_prefilled_and_locked(
    sheet_bytes: bytes, example_bundle: CampaignBundle
) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(sheet_bytes))["评分"]
    assert isinstance(ws, Worksheet)
    checklist = example_bundle.campaign.checklist("quarterly")
    for offset, item in enumerate(checklist.items):
        row = FIRST_DATA_ROW + offset
        assert ws.cell(row, 1).value == item.id
        assert ws.cell(row, 2).value == item.title
        assert Decimal(str(ws.cell(row, 3).value)) == item.points
        assert ws.cell(row, 1).protection.locked is True
        assert ws.cell(row, 5).protection.locked is False
    assert ws.protection.sheet


def test_a_filled_sheet_reads_back(
    sheet_bytes: bytes, reader: WorkbookReader, example_bundle: CampaignBundle
) -> None:
    form = scoresheet_form(example_bundle.campaign.checklist("quarterly"), "zh-CN")
    data = fill(sheet_bytes, [18, 27.5, 30, 16], [("窗口人员脱岗", "加强考勤", None)])
    parsed = reader.read(data, sniff(data, "评分表.xlsx"))
    assert parsed.metadata is not None
    assert parsed.metadata["unit_id"] == "T01"
    checked = validate_workbook(form, parsed.sheets, "1", parsed.uncomputed)
    assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
    assert [r["score"] for r in checked.rows["评分"]] == ["18", "27.5", "30", "16"]
    assert checked.rows["发现问题"][0]["finding"] == "窗口人员脱岗"


def test_a_missing_or_negative_score_is_named(
    sheet_bytes: bytes, reader: WorkbookReader, example_bundle: CampaignBundle
) -> None:
    form = scoresheet_form(example_bundle.campaign.checklist("quarterly"), "zh-CN")
    data = fill(sheet_bytes, [18, None, -2, 16], [])
    parsed = reader.read(data, sniff(data, "评分表.xlsx"))
    checked = validate_workbook(form, parsed.sheets, "1", parsed.uncomputed)
    said = [p.describe("zh-CN") for p in checked.problems]
    assert not checked.valid
    assert any("E4" in s for s in said), said
    assert any("E5" in s for s in said), said


def test_an_english_campaign_gets_english_sheets(example_bundle: CampaignBundle) -> None:
    form = scoresheet_form(example_bundle.campaign.checklist("quarterly"), "en")
    assert [s.name for s in form.sheets] == ["Scores", "Findings"]
    assert form.sheets[0].min_rows == form.sheets[0].max_rows == 4
