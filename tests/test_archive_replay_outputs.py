"""The replay of the outputs beyond the rankings and summaries (issue 19, point 3): the
rectification ledger (整改台账), the inspection round's summary workbook (督查汇总表) and bulletin
(督查通报), the deliverable's bulletin (通报), the evaluation's bulletin (考核通报) and score
sheets (得分说明), each written again from the bag alone and compared; one cell or figure
edited, every manifest recomputed after it, is named by file, sheet and cell or paragraph."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from duban.archive.fourprops.run import file_report
from duban.clock import FixedClock
from duban.evaluate.commands import report_of, score_sheet_name, sheets_folder
from duban.evaluate.workbook import write_score_sheet
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EvaluationRow
from duban.model.loader import load_campaign
from duban.selfcheck.items import NewItem
from duban.selfcheck.ledger import apply_move, create_items
from duban.selfcheck.states import Action, Move

from .conftest import EXAMPLE
from .test_archive_replay import copy_of, covered, rejected, run_ok, verify
from .test_archive_replay import edit_cell as edit_csv

ZONE = ZoneInfo("Asia/Shanghai")
CID = "nlzf-2026"
EARLY = "data/outputs/rectification/整改台账（2026-10-09）.xlsx"
LEDGER = "data/outputs/rectification/整改台账（2026-10-20）.xlsx"
SUMMARY = "data/outputs/inspections/督查汇总表-季度常规督查-2026-Q4.xlsx"
NOTICE = "data/outputs/inspections/督查通报-季度常规督查-2026-Q4.docx"
BULLETIN = "data/outputs/plan-once/实施方案通报.docx"
SHEET = "data/outputs/evaluation/得分说明-2026-v1/得分说明-市委组织部.xlsx"
EVALUATION_BULLETIN = "data/outputs/evaluation/考核通报-2026-v1.docx"
ITEMS = "data/ledger/rectification_items.csv"
PAGE = "data/outputs/plan-once/实施方案通报.html"


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three rectification items, a ledger written on 9 October, one item given progress on
    the 12th and another claimed on the 13th and closed on the 14th, a ledger written on the
    20th; a summary and bulletin compiled; an inspection round drawn,
    approved and reported; all filed as a bag."""
    home = tmp_path_factory.mktemp("replay-outputs")
    url = f"sqlite:///{home / 'l.sqlite3'}"
    env = {"DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": url, "DUBAN_NOW": "2026-12-10",
           "DUBAN_LANG": "en", "DUBAN_SECRET": "s" * 20}  # fmt: skip
    run_ok(["init", str(EXAMPLE)], env)
    engine = make_engine(url)
    with session_scope(engine) as session:
        create_items(session, FixedClock(datetime(2026, 9, 19, 10, tzinfo=ZONE)), CID, [
            NewItem("B03", "学习制度落实不到位", measure="建立周学习制度",
                    deadline=date(2026, 9, 30)),
            NewItem("T01", "值班纪律松弛", measure="严格值班", deadline=date(2026, 9, 30)),
            NewItem("T02", "制度执行不严", measure="加强督查", deadline=date(2026, 12, 31)),
        ], actor="coordinator")  # fmt: skip
    run_ok(["rectify", "ledger", str(EXAMPLE), "--as-of", "2026-10-09"], env)
    with session_scope(engine) as session:
        apply_move(session, FixedClock(datetime(2026, 10, 12, 10, tzinfo=ZONE)), CID,
                   "ZG-B03-001", Move(Action.PROGRESS, "x", role="unit", note="正在修订"),
                   zone=ZONE)  # fmt: skip
    for day, move in ((13, Move(Action.CLAIM, "T02", role="unit", evidence="已建立督查台账")),
                      (14, Move(Action.CLOSE, "王明"))):  # fmt: skip
        with session_scope(engine) as session:
            apply_move(session, FixedClock(datetime(2026, 10, day, 10, tzinfo=ZONE)), CID,
                       "ZG-T02-001", move, zone=ZONE)  # fmt: skip
    engine.dispose()
    run_ok(["rectify", "ledger", str(EXAMPLE), "--as-of", "2026-10-20"], env)
    run_ok(["compile", str(EXAMPLE), "--deliverable", "plan", "--as-of", "2026-03-10"], env)
    run_ok(["compile", str(EXAMPLE), "--deliverable", "rectification", "--period", "2026-09",
            "--as-of", "2026-10-11"], env)  # fmt: skip
    run_ok(["compile", str(EXAMPLE), "--deliverable", "rectification", "--period", "2026-10",
            "--as-of", "2026-11-10"], env)  # fmt: skip
    run_ok(["inspect", "draw", str(EXAMPLE), "quarterly", "--seed", "20260501"], env)
    run_ok(["inspect", "approve", str(EXAMPLE), "quarterly"], env)
    run_ok(["inspect", "report", str(EXAMPLE), "quarterly"], env)
    run_ok(["evaluate", "compute", str(EXAMPLE), "--closes", "2026-12-09"], env)
    score_sheets(home, url, ["B03", "T01"])
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(home / "bag")], env)
    return home / "bag"


def score_sheets(home: Path, url: str, units: list[str]) -> None:
    """Two units' score sheets where publication writes them (publication also mails them,
    which these tests need not)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        row = session.scalars(select(EvaluationRow)).one()
        report = report_of(load_campaign(EXAMPLE), row)
    engine.dispose()
    folder = home / "out" / CID / "evaluation" / sheets_folder(report, "v1")
    folder.mkdir(parents=True)
    for unit in units:
        write_score_sheet(report, unit, folder / score_sheet_name(report, unit))


def edit_cell(path: Path, sheet: str, cell: str, change: object) -> object:
    """Set one cell of a workbook; return what it held."""
    book = load_workbook(path)
    old = book[sheet][cell].value
    book[sheet][cell].value = change
    book.save(path)
    return old


def test_every_output_of_an_untouched_bag_is_replayed(bag: Path):
    code, output = verify(bag)
    assert code == 0, output
    for path in (LEDGER, SUMMARY, NOTICE):
        assert f"replayed, matches: {path}: " in output
    folder = SHEET.rpartition("/")[0]
    assert f"replayed, matches: {folder}/: 2 score sheets written again from the recomputed " \
        "version" in output  # fmt: skip
    assert f"replayed, matches: {EVALUATION_BULLETIN}: written again" in output
    assert f"replayed, matches: {EARLY}: 3 items as of 2026-10-09T00:00+08:00 (2 moved " \
           "since, as they stood then from their events), written again and compared" \
           in output  # fmt: skip
    assert f"replayed, matches: {BULLETIN}: written again from its summary's" in output
    for page in (PAGE, EVALUATION_BULLETIN, NOTICE):  # the pages as mailed, rendered again
        assert f"replayed, matches: {page.replace('.docx', '.html')}: " in output


def test_a_bulletin_counting_items_moved_since_is_compared_as_they_stood(bag: Path):
    """Compiled as of 11 October after the moves of the 12th to the 14th: it counted them
    (the log's order says so), and is written again from the items as they stood then."""
    code, output = verify(bag)
    assert code == 0, output
    for period in ("2026-09", "2026-10"):
        [line] = [x for x in output.splitlines()
                  if f"rectification-{period}/" in x and "通报.docx" in x]  # fmt: skip
        assert line.startswith("  replayed, matches: "), line
        assert line.endswith(".docx: written again from its summary's recomputed figures")


def test_an_edited_closure_count_in_a_bulletin_of_items_moved_since_is_named(
    bag: Path, tmp_path: Path
):
    target = copy_of(bag, tmp_path)
    path = "data/outputs/rectification-2026-09/整改进展月报（2026年9月）通报.docx"
    text = edit_paragraph(target / path, 22, "已整改销号1个", "已整改销号2个")
    assert text.startswith("截至2026年10月11日 00:00，各单位共查摆问题3个，已整改销号1个")
    output = rejected(target)
    assert f"{path} paragraph 22: reads" in output
    assert output.count(f"{path} ") == 1


def test_an_edited_ledger_cell_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    old = edit_cell(target / LEDGER, "汇总", "E10", 1)  # overdue, in the total line
    output = rejected(target)
    assert f"{LEDGER} sheet 汇总 cell E10: is 1, recomputed {old}" in output
    assert output.count(f"{LEDGER} sheet") == 1


def item_row(book: Any, code: str) -> tuple[Any, int]:
    """The item's sheet (its tag's) and row in a ledger workbook."""
    for sheet in book.worksheets[1:]:
        for row in range(2, sheet.max_row + 1):
            if sheet[f"B{row}"].value == code:
                return sheet, row
    raise AssertionError(f"{code} not in the workbook")


def test_an_item_closed_since_is_compared_as_it_stood(bag: Path, tmp_path: Path):
    """The 9 October ledger: ZG-T02-001, closed on the 14th, was open then; its state cell
    edited to closed is named, as is a count of its summary."""
    target = copy_of(bag, tmp_path)
    book = load_workbook(target / EARLY)
    sheet, row = item_row(book, "ZG-T02-001")
    assert sheet[f"J{row}"].value == "未启动"
    sheet[f"J{row}"].value = "已销号"
    book.save(target / EARLY)
    old = edit_cell(target / EARLY, "汇总", "C10", 1)  # closed, in the total line
    output = rejected(target)
    assert f"{EARLY} sheet {sheet.title} cell J{row}: is 已销号, recomputed 未启动" in output
    assert f"{EARLY} sheet 汇总 cell C10: is 1, recomputed {old}" in output
    assert old == 0


def test_an_item_given_progress_since_is_compared_as_it_stood(bag: Path, tmp_path: Path):
    """ZG-B03-001 had no progress on 9 October; the progress it was given on the 12th, written
    into the earlier ledger, is named, and so is an edit of its finding."""
    target = copy_of(bag, tmp_path)
    book = load_workbook(target / EARLY)
    sheet, row = item_row(book, "ZG-B03-001")
    sheet[f"I{row}"].value = "正在修订"
    sheet[f"D{row}"].value = "另一个问题"
    book.save(target / EARLY)
    output = rejected(target)
    where = f"{EARLY} sheet {sheet.title} cell"
    assert f"{where} I{row}: is 正在修订, recomputed (empty)" in output
    assert f"{where} D{row}: is 另一个问题, recomputed 学习制度落实不到位" in output


def test_an_edited_inspection_score_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    old = edit_cell(target / SUMMARY, "说明", "B9", 7)  # units drawn
    output = rejected(target)
    assert f"{SUMMARY} sheet 说明 cell B9: is 7, recomputed {old}" in output
    assert old == 8


def edit_paragraph(path: Path, number: int, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` in one paragraph of a .docx; return the paragraph's text."""
    document = docx.Document(str(path))
    paragraph = document.paragraphs[number - 1]
    text = paragraph.text
    assert old in text
    for run in paragraph.runs:
        run.text = run.text.replace(old, new)
    document.save(str(path))
    return text


def test_an_edited_count_in_the_inspection_bulletin_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    edit_paragraph(target / NOTICE, 9, "收回评分表0份", "收回评分表6份")
    output = rejected(target)
    assert f"{NOTICE} paragraph 9: reads “本次共抽查8个单位，收回评分表6份" in output
    assert "recomputed “本次共抽查8个单位，收回评分表0份" in output


def test_an_edited_count_in_the_bulletin_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    edit_paragraph(target / BULLETIN, 12, "（30个）", "（29个）")
    output = rejected(target)
    assert f"{BULLETIN} paragraph 12: reads “三、未报送的单位（29个）”, recomputed " \
           "“三、未报送的单位（30个）”" in output  # fmt: skip
    assert output.count(BULLETIN) == 1


def test_an_edited_score_sheet_cell_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    old = edit_cell(target / SHEET, "得分说明", "C6", 95)  # the unit's total
    output = rejected(target)
    assert f"{SHEET} sheet 得分说明 cell C6: is 95, recomputed {old}" in output
    assert output.count(f"{SHEET} sheet") == 1


def test_an_edited_evaluation_bulletin_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    document = docx.Document(str(target / EVALUATION_BULLETIN))
    [number] = [n for n, p in enumerate(document.paragraphs, start=1) if "市委组织部" in p.text][:1]
    text = edit_paragraph(target / EVALUATION_BULLETIN, number, "市委组织部", "市委办公室")
    output = rejected(target)
    assert f"{EVALUATION_BULLETIN} paragraph {number}: reads" in output
    assert text[:20] in output


def test_an_edited_item_in_the_ledger_table_is_named_in_the_workbook(bag: Path, tmp_path: Path):
    """The table edited, not the workbook: the workbook no longer follows from it."""
    target = copy_of(bag, tmp_path)
    edit_csv(target / ITEMS, "3", "finding", "制度执行到位")
    output = rejected(target)
    assert f"{LEDGER} sheet 镇区 cell D3: is 制度执行不严, recomputed 制度执行到位" in output


def test_an_output_the_ledger_cannot_give_is_said(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    edit_csv(target / "data/ledger/inspection_rounds.csv", "1", "state", "drawn")
    output = rejected(target)
    assert f"{SUMMARY}: cannot be recomputed: round 2026-Q4 is drawn" in output
    assert "cannot be read as" not in output


def test_a_ledger_no_event_wrote_is_said_not_replayed(bag: Path, tmp_path: Path):
    """Renamed to a day no ledger was written on: its moment is unknown, and said."""
    target = copy_of(bag, tmp_path)
    renamed = EARLY.replace("2026-10-09", "2026-10-10")
    (target / EARLY).rename(target / renamed)
    covered(target)
    code, output = verify(target)
    assert code == 0, output
    assert f"not replayed: {renamed} (no event of the log says it wrote this file" in output


def test_a_state_edited_in_the_ledger_table_is_named_where_the_row_is_compared(
    bag: Path, tmp_path: Path
):
    """ZG-T02-001 closed in the log, claimed in the table: the 20 October ledger, written after
    its last move, is compared with its row and names the state; for the 9 October ledger the
    log and the table disagree on its state, so neither is taken and its state is not compared."""
    target = copy_of(bag, tmp_path)
    sheet, row = item_row(load_workbook(target / LEDGER), "ZG-T02-001")
    assert edit_csv(target / ITEMS, "3", "state", "claimed") == ("closed", "claimed")
    output = rejected(target)
    assert f"{LEDGER} sheet {sheet.title} cell J{row}: is 已销号, recomputed 已申请销号" in output
    assert f"{EARLY} sheet" not in output


def edit_page(path: Path, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` on the one line of an HTML page holding it; its number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    [number] = [n for n, line in enumerate(lines, start=1) if old in line][:1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")
    return number


@pytest.mark.parametrize("page", [PAGE, EVALUATION_BULLETIN.replace(".docx", ".html"),
                                  NOTICE.replace(".docx", ".html")])  # fmt: skip
def test_a_page_as_mailed_edited_is_named_by_its_line(bag: Path, tmp_path: Path, page: str):
    """The bulletins as mailed are rendered again with the templates the bag files."""
    target = copy_of(bag, tmp_path)
    assert (target / "data" / "templates" / "zh-CN").is_dir()
    number = edit_page(target / page, "</title>", "（已核实）</title>")
    output = rejected(target)
    assert f"{page} line {number}: reads" in output
    assert output.count(f"{page} line") == 1


def test_without_its_templates_a_bag_says_its_pages_are_not_replayed(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    shutil.rmtree(target / "data" / "templates")  # as a bag filed before templates were
    edit_page(target / PAGE, "</title>", "（已核实）</title>")
    covered(target)
    file_report(target)  # the four-properties report of that bag, as it was written then
    covered(target)
    code, output = verify(target)
    assert code == 0, output
    assert f"not replayed: {PAGE} (a page the replay does not render again" in output
