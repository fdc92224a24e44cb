"""The personal ballot (民主评议测评表, issue 17 item 1): each evaluator of the register gets a
workbook listing the units they rate (never their own), locked, with the scale's words in a
dropdown and a comment column; its token names the evaluator, and a filled copy reads back
through duban's reader and validator."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.token import BALLOT, BallotIdentity, TemplateIdentity, sign, verify
from duban.evaluate.ballotsheets import BallotBuilder
from duban.implement.intake.decide import (
    EvaluatorBallot,
    Outcome,
    Verdict,
    identify,
    identify_ballot,
)
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.sniff import sniff
from duban.model.ballotsheets import BALLOT_KEYS, ballot_form
from duban.model.evaluators import Evaluator
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.model.scoring import BallotSpec
from duban.model.validation import Checked, validate_workbook

SECRET = b"0123456789abcdef-ballot-secret"
CLOSE = datetime(2026, 12, 18, 9, 30, tzinfo=UTC)
MARK = BALLOT_KEYS.index("mark") + 1
COMMENT = BALLOT_KEYS.index("comment") + 1


@pytest.fixture(scope="module")
def reader() -> Iterator[WorkbookReader]:
    with WorkbookReader(1) as shared:
        yield shared


def builder(bundle: CampaignBundle, spec: BallotSpec | None = None) -> BallotBuilder:
    source = bundle.campaign.scoring.source("public-evaluation")
    if spec is not None:
        source = source.model_copy(update={"ballots": spec})
    return BallotBuilder(bundle, source, "2026", CLOSE, SECRET)


def evaluator(bundle: CampaignBundle, evaluator_id: str) -> Evaluator:
    return next(e for e in bundle.evaluators if e.id == evaluator_id)


def sheet_of(data: bytes, name: str = "测评表") -> Worksheet:
    ws = openpyxl.load_workbook(io.BytesIO(data))[name]
    assert isinstance(ws, Worksheet)
    return ws


def test_the_units_rated_are_prefilled_and_locked(example_bundle: CampaignBundle) -> None:
    zhou = evaluator(example_bundle, "E01")  # a 党代表 of 金城镇 (T01), rating every unit
    assert zhou.unit_id == "T01"
    ws = sheet_of(builder(example_bundle).workbook(zhou))
    listed = [ws.cell(FIRST_DATA_ROW + n, 1).value for n in range(len(example_bundle.units))]
    others = [u for u in example_bundle.units if u.id != "T01"]
    assert listed == [u.id for u in others] + [None]  # its own unit is not on it
    for offset, unit in enumerate(others):
        row = FIRST_DATA_ROW + offset
        assert ws.cell(row, 2).value == unit.name
        assert ws.cell(row, 1).protection.locked is True
        assert ws.cell(row, 2).protection.locked is True
        assert ws.cell(row, MARK).protection.locked is False
        assert ws.cell(row, COMMENT).protection.locked is False
    assert ws.protection.sheet
    headers = [ws.cell(2, c).value for c in range(1, 5)]
    assert headers == ["单位编号", "被测评单位", "评价", "意见建议"]


def test_a_sample_lists_only_its_units(example_bundle: CampaignBundle) -> None:
    shi = evaluator(example_bundle, "E15")  # 服务对象: 市行政审批局、市公安局、西城街道
    ws = sheet_of(builder(example_bundle).workbook(shi))
    listed = [ws.cell(FIRST_DATA_ROW + n, 2).value for n in range(4)]
    assert listed == ["西城街道", "市公安局", "市行政审批局", None]  # in roster order


def test_the_marks_are_the_scales_words(example_bundle: CampaignBundle) -> None:
    ws = sheet_of(builder(example_bundle).workbook(evaluator(example_bundle, "E03")))
    [marks] = [dv for dv in ws.data_validations.dataValidation if "C3" in str(dv.sqref)]
    assert marks.type == "list"
    assert marks.formula1 == '"满意,基本满意,不满意"'


def test_a_numeric_scale_takes_0_to_100(example_bundle: CampaignBundle) -> None:
    spec = BallotSpec(scale="0-100")
    ws = sheet_of(builder(example_bundle, spec).workbook(evaluator(example_bundle, "E03")))
    [marks] = [dv for dv in ws.data_validations.dataValidation if "C3" in str(dv.sqref)]
    assert (marks.type, marks.operator, marks.formula1, marks.formula2) == (
        "decimal", "between", "0", "100",
    )  # fmt: skip


def test_the_token_names_the_evaluator(example_bundle: CampaignBundle) -> None:
    ballots = builder(example_bundle)
    he = evaluator(example_bundle, "E13")
    meta = read_metadata(ballots.workbook(he))
    assert (meta["kind"], meta["source"], meta["round"]) == (BALLOT, "public-evaluation", "2026")
    assert (meta["unit_id"], meta["unit_name"]) == ("E13", "何玉兰")
    identity = BallotIdentity(meta["campaign"], meta["source"], meta["round"], meta["unit_id"])
    assert identity == ballots.identity(he)
    assert verify(SECRET, identity, meta["token"])
    assert not verify(SECRET, replace(identity, evaluator_id="E14"), meta["token"])
    assert not verify(SECRET, replace(identity, round_label="2025"), meta["token"])
    as_a_unit = TemplateIdentity("nlzf-2026", "public-evaluation:public-evaluation", "2026",
                                 "E13", 1)  # fmt: skip
    assert not verify(SECRET, as_a_unit, meta["token"])  # never a unit's template


def test_a_tampered_token_fails(example_bundle: CampaignBundle) -> None:
    ballots = builder(example_bundle)
    he = evaluator(example_bundle, "E13")
    book = openpyxl.load_workbook(io.BytesIO(ballots.workbook(he)))
    hidden = book["_duban"]
    assert isinstance(hidden, Worksheet)
    row = next(r for r in range(1, hidden.max_row + 1) if hidden.cell(r, 1).value == "unit_id")
    hidden.cell(row, 2).value = "E14"  # passed to another evaluator's name
    out = io.BytesIO()
    book.save(out)
    meta = read_metadata(out.getvalue())
    claimed = BallotIdentity(meta["campaign"], meta["source"], meta["round"], meta["unit_id"])
    assert not verify(SECRET, claimed, meta["token"])
    assert verify(SECRET, ballots.identity(he), sign(SECRET, ballots.identity(he)))


def returned(
    bundle: CampaignBundle, reader: WorkbookReader, marks: list[tuple[str | None, str | None]]
) -> Checked:
    """The ballot of E15 (three units) filled with ``marks`` (mark, comment) a row each,
    read back and checked as intake would."""
    book = openpyxl.load_workbook(io.BytesIO(builder(bundle).workbook(evaluator(bundle, "E15"))))
    ws = book["测评表"]
    assert isinstance(ws, Worksheet)
    for offset, (mark, comment) in enumerate(marks):
        ws.cell(FIRST_DATA_ROW + offset, MARK, mark)
        ws.cell(FIRST_DATA_ROW + offset, COMMENT, comment)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    parsed = reader.read(data, sniff(data, "测评表.xlsx"))
    form = ballot_form(bundle.campaign.scoring.source("public-evaluation"), 3, "zh-CN")
    return validate_workbook(form, parsed.sheets, "1", parsed.uncomputed)


def test_a_filled_ballot_reads_back(example_bundle: CampaignBundle, reader: WorkbookReader) -> None:
    marks = [("满意", None), ("基本满意", "窗口排队时间长"), (None, None)]
    checked = returned(example_bundle, reader, marks)
    assert checked.valid, [p.describe("zh-CN") for p in checked.problems]
    rows = checked.rows["测评表"]
    assert [(r["unit"], r["mark"], r["comment"]) for r in rows] == [
        ("T08", "满意", None), ("B09", "基本满意", "窗口排队时间长"), ("B17", None, None),
    ]  # fmt: skip


def test_a_mark_off_the_scale_is_named(
    example_bundle: CampaignBundle, reader: WorkbookReader
) -> None:
    checked = returned(example_bundle, reader, [("很好", None)])
    said = [p.describe("zh-CN") for p in checked.problems]
    assert not checked.valid
    assert any("C3" in s for s in said), said


def test_an_english_campaign_gets_an_english_ballot(example_bundle: CampaignBundle) -> None:
    campaign = example_bundle.campaign.model_copy(update={"language": "en"})
    english = replace(example_bundle, campaign=campaign)
    ballots = builder(english)
    wu = evaluator(english, "E02")  # of B08: 29 units listed
    data = ballots.workbook(wu)
    ws = sheet_of(data, "Ballot")
    assert [ws.cell(2, c).value for c in range(1, 5)] == ["Unit", "Unit rated", "Mark", "Comment"]
    assert ws.cell(FIRST_DATA_ROW + 28, 1).value == "B20"
    assert ws.cell(FIRST_DATA_ROW + 29, 1).value is None
    assert ballots.attachment_name(wu) == "ballot-民主评议-吴秀英.xlsx"
    form = ballot_form(campaign.scoring.source("public-evaluation"), 29, "en")
    assert form.sheets[0].min_rows == form.sheets[0].max_rows == 29


def test_intake_knows_a_ballot_for_its_evaluators(example_bundle: CampaignBundle) -> None:
    ballots = builder(example_bundle)
    he = evaluator(example_bundle, "E13")
    meta = read_metadata(ballots.workbook(he))
    found = identify_ballot(meta, example_bundle, SECRET)
    assert isinstance(found, EvaluatorBallot)
    assert (found.evaluator, found.identity) == (he, ballots.identity(he))
    # not a unit's, not a scoresheet: the ledger records it (tests/test_ballots_roundtrip.py)
    assert identify(meta, he.email, example_bundle, SECRET) == found
    forged = identify_ballot({**meta, "unit_id": "E14"}, example_bundle, SECRET)
    assert forged == Verdict(Outcome.HELD, "bad-token")
    stranger = identify_ballot({**meta, "unit_id": "E99"}, example_bundle, SECRET)
    assert stranger == Verdict(Outcome.HELD, "unknown-evaluator", {"evaluator": "E99"})
