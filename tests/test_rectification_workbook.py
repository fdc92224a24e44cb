"""The rectification ledger workbook (整改台账, issue 15 point 6): its sheets, headings, rows per
tag, the overdue sheet on a given day, filters and dates, read back with openpyxl."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from duban.model.roster import Unit
from duban.selfcheck.items import Item
from duban.selfcheck.rates import Rules
from duban.selfcheck.states import State
from duban.selfcheck.workbook import write_rectification_ledger

from .test_rectification import OFFICIAL, ZONE, item

DAY = date(2026, 10, 9)


def NAIVE(year: int, month: int, day: int) -> datetime:  # noqa: N802
    """A day as openpyxl reads a date cell back: a naive midnight."""
    return datetime.combine(date(year, month, day), datetime.min.time())


RULES = Rules(day=DAY, calendar=OFFICIAL, zone=ZONE)
UNITS = [
    Unit(id="B03", name="市财政局", tags=("部门",), emails=("b03@example.cn",)),
    Unit(id="B10", name="市政务服务中心", tags=("部门", "窗口"), emails=("b10@example.cn",)),
    Unit(id="T01", name="金城镇", tags=("镇区",), emails=("t01@example.cn",)),
    Unit(id="X01", name="无标签单位", emails=("x01@example.cn",)),
]


def items() -> list[Item]:
    return [
        item(State.CLOSED, code="ZG-B03-001", closed_at=datetime(2026, 9, 18, 23, 0, tzinfo=ZONE)),
        item(State.IN_PROGRESS, code="ZG-B03-002", deadline=date(2026, 9, 18), progress="过半"),
        item(State.OPEN, code="ZG-B10-001", unit_id="B10", deadline=None, long_term=True),
        item(State.CLAIMED, code="ZG-T01-001", unit_id="T01", deadline=date(2026, 9, 30)),
        item(State.CANCELLED, code="ZG-T01-002", unit_id="T01", finding="=SUM(A1)"),
        item(State.OPEN, code="ZG-X01-001", unit_id="X01", deadline=date(2026, 10, 9)),
    ]  # fmt: skip


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.xlsx"
    stats = write_rectification_ledger(
        path, iter(items()), UNITS, rules=RULES, title="能力作风建设提升年"
    )
    assert (stats.items, stats.rows, stats.overdue) == (6, 7, 2)
    return path


def test_sheets_headings_and_rows_per_tag(written: Path) -> None:
    book = openpyxl.load_workbook(written)
    assert book.sheetnames == ["汇总", "窗口", "部门", "镇区", "未分组", "逾期未完成"]
    for name in book.sheetnames[1:]:
        heading = [c.value for c in book[name][1]]
        assert heading == ["序号", "问题编号", "问题类别", "问题描述", "整改措施", "责任单位",
                           "责任人", "整改时限", "整改进展", "完成情况", "销号时间"]  # fmt: skip
        ws = book[name]
        assert ws.freeze_panes == "C2"
        assert ws.auto_filter.ref == f"A1:K{max(ws.max_row, 2)}"
        assert ws.print_title_rows == "$1:$1"
        assert ws.page_setup.orientation == "landscape"

    def codes(name: str) -> list[object]:
        return [r[1] for r in book[name].iter_rows(min_row=2, values_only=True)]

    assert codes("部门") == ["ZG-B03-001", "ZG-B03-002", "ZG-B10-001"]
    assert codes("窗口") == ["ZG-B10-001"]
    assert codes("镇区") == ["ZG-T01-001", "ZG-T01-002"]
    assert codes("未分组") == ["ZG-X01-001"]
    rows = list(book["部门"].iter_rows(min_row=2, values_only=True))
    assert rows[0][0] == 1
    assert rows[2][0] == 3
    assert rows[0][5] == "市财政局"
    assert rows[0][7] == NAIVE(2026, 9, 30)
    assert rows[0][10] == NAIVE(2026, 9, 18)
    assert book["部门"]["H2"].number_format == "yyyy-mm-dd"
    assert rows[0][9] == "已销号"
    assert rows[1][8] == "过半"
    assert rows[1][9] == "整改中"
    assert rows[2][7] == "长期坚持"
    assert rows[2][9] == "长期坚持"
    cancelled = next(book["镇区"].iter_rows(min_row=3, values_only=True))
    assert cancelled[3] == "=SUM(A1)"
    assert cancelled[9] == "已作废"


def test_the_overdue_sheet_on_the_day_asked(written: Path, tmp_path: Path) -> None:
    """On 9 October: B03-002 (due 18 September) and the claimed T01-001 (due 30 September);
    X01-001 is due that very day, so not yet."""
    book = openpyxl.load_workbook(written)
    overdue = [r[1] for r in book["逾期未完成"].iter_rows(min_row=2, values_only=True)]
    assert overdue == ["ZG-B03-002", "ZG-T01-001"]
    later = tmp_path / "later.xlsx"
    rules = Rules(day=date(2026, 10, 12), calendar=OFFICIAL, zone=ZONE)
    write_rectification_ledger(later, items(), UNITS, rules=rules)
    sheet = openpyxl.load_workbook(later)["逾期未完成"]
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "ZG-B03-002", "ZG-T01-001", "ZG-X01-001"
    ]  # fmt: skip


def test_the_summary_gives_rates_per_tag(written: Path) -> None:
    ws = openpyxl.load_workbook(written)["汇总"]
    assert ws["A1"].value == "能力作风建设提升年整改台账"
    assert ws["B2"].value == NAIVE(2026, 10, 9)
    table: dict[object, tuple[object, ...]] = {
        r[0]: r[1:] for r in ws.iter_rows(min_row=5, values_only=True) if r[0]
    }
    assert table["部门"] == (3, 1, 2, 1, 0, pytest.approx(1 / 3), 1.0)
    assert table["窗口"] == (1, 0, 1, 0, 0, 0.0, "—")
    assert table["镇区"] == (1, 0, 1, 1, 1, 0.0, "—")
    assert table["合计"] == (5, 1, 4, 2, 1, pytest.approx(0.2), 1.0)


def test_english_headings(tmp_path: Path) -> None:
    path = tmp_path / "en.xlsx"
    write_rectification_ledger(path, items(), UNITS, rules=RULES, language="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Summary"
    assert book.sheetnames[-1] == "Overdue"
    assert book["Overdue"]["A1"].value == "No."
    assert book["Overdue"]["J2"].value == "in progress"


def test_libreoffice_prints_it(written: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is absent")
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(written)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    import pypdf

    pdf = pypdf.PdfReader(tmp_path / "pdf" / "ledger.pdf")
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pdf.pages}
    assert sizes == {(842, 595)}
    text = "".join("".join(p.extract_text().split()) for p in pdf.pages)
    assert "问题编号" in text
    assert "ZG-T01-001" in text
