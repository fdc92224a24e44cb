"""The summary workbook and the bulletin, read back: every figure, unit and row where it belongs,
and nothing a unit typed turned into a formula."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from openpyxl.utils import get_column_letter

from duban.adapters.render import environment, format_due
from duban.compile import workbook as workbook_module
from duban.compile.bulletin import (
    InconsistentInputError,
    bulletin_context,
    render_bulletin_html,
    write_bulletin_docx,
)
from duban.compile.chart import bar_chart
from duban.compile.model import CompileInput, SubmissionData, Totals, UnitLine
from duban.compile.outputs import file_names
from duban.compile.texts import state_word
from duban.compile.workbook import write_summary
from duban.model.campaign import Language
from duban.model.forms import Form
from duban.model.loader import CampaignBundle

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # the end of 5 March in Shanghai
AS_OF = datetime(2026, 3, 12, 1, 30, tzinfo=UTC)
HOSTILE = ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-2+3", "\t=1"]

# 30 units: 18 on time, 5 late, 4 missing, 2 returned, 1 exempted.
STATES = ["on-time"] * 18 + ["late"] * 5 + ["overdue"] * 4 + ["rejected"] * 2 + ["exempted"]


@pytest.fixture(scope="module")
def plan_form(example_bundle: CampaignBundle) -> Form:
    return next(f for f in example_bundle.campaign.forms if f.id == "plan")


def unit_name(index: int) -> str:
    return "=1+1单位" if index == 7 else f"测试单位{index:02d}"


def make_units() -> list[UnitLine]:
    units = []
    for index, state in enumerate(STATES, start=1):
        received = state in ("on-time", "late")
        first = DUE - timedelta(days=2, hours=index) if state == "on-time" else None
        if state == "late":
            first = DUE + timedelta(days=index - 18, hours=3)
        versions = 1 + index % 3 if received else 0
        units.append(
            UnitLine(
                unit_id=f"U{index:02d}",
                unit_name=unit_name(index),
                tags=("镇区",) if index % 2 else ("部门", "牵头"),
                state=state,
                due_at=DUE,
                first_valid_at=first,
                latest_version=versions or None,
                latest_received_at=None if first is None else first + timedelta(hours=versions),
                versions=versions,
                late_working_days=index - 18 if state == "late" else None,
            )
        )
    return units


def make_rows(unit: UnitLine) -> list[dict[str, Any]]:
    index = int(unit.unit_id[1:])
    rows = []
    for n in range(3 + index % 3):
        task = HOSTILE[index % len(HOSTILE)] if n == 0 and index <= 10 else f"任务{index}-{n}"
        rows.append(
            {
                "category": "教育培训",
                "task": task,
                "measures": f"扎实开展学习型党组织创建活动，第{n}项措施",
                "section": "办公室",
                "owner": "张三",
                "phone": "0519-82812345" if n % 2 else None,
                "deadline": date(2026, 6, 1 + n).isoformat(),
            }
        )
    return rows


def make_submissions(units: list[UnitLine]) -> Iterator[SubmissionData]:
    """A generator, as gather yields them: it can be consumed only once."""
    for unit in units:
        if unit.latest_version is None or unit.latest_received_at is None:
            continue
        yield SubmissionData(
            unit_id=unit.unit_id,
            unit_name=unit.unit_name,
            version=unit.latest_version,
            received_at=unit.latest_received_at,
            sha256=hashlib.sha256(unit.unit_id.encode()).hexdigest(),
            rows={"实施方案": make_rows(unit)},
        )


def totals_of(units: list[UnitLine]) -> Totals:
    c = Counter(u.state for u in units)
    return Totals(
        expected=len(units) - c["exempted"],
        received=c["on-time"] + c["late"],
        on_time=c["on-time"],
        late=c["late"],
        missing=c["overdue"],
        rejected=c["rejected"],
        pending=0,
        exempted=c["exempted"],
    )


def make_input(form: Form, language: Language = "zh-CN") -> CompileInput:
    units = make_units()
    return CompileInput(
        campaign_id="nlzf-2026",
        campaign_title='2026年"能力作风建设提升年"活动',
        language=language,
        zone=SHANGHAI,
        deliverable_id="plan",
        deliverable_title="实施方案",
        period="once",
        due_text=format_due(DUE, SHANGHAI, language),
        as_of=AS_OF,
        coordinator_name="市优化办",
        form=form,
        totals=totals_of(units),
        units=units,
        submissions=make_submissions(units),
    )


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


# ----------------------------------------------------------------------------- workbook


@pytest.fixture(scope="module")
def compiled(plan_form: Form, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = make_input(plan_form)
    path = tmp_path_factory.mktemp("compile") / "汇总表.xlsx"
    stats = write_summary(data, path)
    return {"data": data, "path": path, "stats": stats, "book": openpyxl.load_workbook(path)}


def test_sheets_in_the_campaign_language(compiled: dict[str, Any]) -> None:
    book = compiled["book"]
    assert book.sheetnames == ["概览", "报送情况", "明细", "_duban"]
    assert book["_duban"].sheet_state == "hidden"
    assert not list(compiled["path"].parent.glob(".*partial*"))


def test_overview_figures_are_the_input_totals(compiled: dict[str, Any]) -> None:
    ws = compiled["book"]["概览"]
    figures = {row[0]: row[1] for row in ws.iter_rows(min_col=1, max_col=2, values_only=True)}
    t: Totals = compiled["data"].totals
    assert figures["应报送单位"] == t.expected == 29
    assert figures["已报送单位"] == t.received == 23
    assert figures["按时报送"] == t.on_time
    assert figures["逾期报送"] == t.late
    assert figures["未报送"] == t.missing
    assert figures["已退回待重报"] == t.rejected
    assert figures["免报"] == t.exempted
    assert figures["报送率"] == pytest.approx(t.completeness)
    assert figures["及时率"] == pytest.approx(t.timeliness)
    assert figures["汇总数据行数"] == compiled["stats"].detail_rows
    assert figures["统计时间"] == "2026年3月12日 09:30"
    assert ws.cell(1, 1).value == '2026年"能力作风建设提升年"活动《实施方案》汇总表'


def test_overview_has_a_native_chart_of_its_own_cells(compiled: dict[str, Any]) -> None:
    assert len(compiled["book"]["概览"]._charts) == 1
    with zipfile.ZipFile(compiled["path"]) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart
    assert "概览!$A$12:$A$15" in chart
    assert "概览!$B$12:$B$15" in chart


def test_every_unit_with_its_state_missing_first(compiled: dict[str, Any]) -> None:
    ws = compiled["book"]["报送情况"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("单位编号", "单位名称", "标签", "报送状态")
    units = {u.unit_id: u for u in compiled["data"].units}
    body = rows[1:]
    assert sorted(r[0] for r in body) == sorted(units)
    for row in body:
        unit = units[row[0]]
        assert row[1] == unit.unit_name
        assert row[3] == state_word(unit.state, "zh-CN")
        assert row[4] == "2026-03-05 24:00"
        assert row[5] == (None if unit.first_valid_at is None else local(unit.first_valid_at))
        assert row[8] == unit.versions
        assert row[9] == unit.late_working_days
    assert [r[3] for r in body[:4]] == ["未报送"] * 4
    assert body[-1][3] == "免报"


def test_detail_has_every_row_once_with_its_source(
    compiled: dict[str, Any], plan_form: Form
) -> None:
    ws = compiled["book"]["明细"]
    rows = list(ws.iter_rows(values_only=True))
    columns = plan_form.sheets[0].columns
    assert rows[0] == (
        "单位编号",
        "单位名称",
        "版本",
        *(c.label for c in columns),
        "收到时间",
        "文件SHA-256",
    )
    expected: Counter[tuple[Any, ...]] = Counter()
    for unit in compiled["data"].units:
        if unit.latest_version is None:
            continue
        sha = hashlib.sha256(unit.unit_id.encode()).hexdigest()
        for r in make_rows(unit):
            deadline = datetime.fromisoformat(r["deadline"])
            values = tuple(deadline if c.key == "deadline" else r[c.key] for c in columns)
            source = (unit.unit_id, unit.unit_name, unit.latest_version)
            expected[(*source, *values, local(unit.latest_received_at), sha)] += 1
    assert Counter(rows[1:]) == expected
    assert compiled["stats"].detail_rows == len(rows) - 1 == sum(expected.values())
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:L{len(rows)}"
    assert ws.print_area == f"'明细'!$A$1:$K${len(rows)}"  # the hash is not printed
    assert ws.print_title_rows == "$1:$1"


def test_detail_columns_are_narrow_and_long_answers_wrap(compiled: dict[str, Any]) -> None:
    ws = compiled["book"]["明细"]
    widths = {
        get_column_letter(n): round(d.width)
        for d in ws.column_dimensions.values()
        for n in range(d.min or 0, (d.max or 0) + 1)
    }  # xlsxwriter adds 0.71 to each width; openpyxl keys a run of equal columns by its first
    assert {c: widths[c] for c in "ABCEFKL"} == {
        "A": 10,
        "B": 17,
        "C": 6,
        "E": 31,
        "F": 31,
        "K": 17,
        "L": 10,
    }
    measures = ws.cell(2, 6)  # 扎实开展学习型党组织创建活动，第0项措施: 40 columns wide
    assert measures.alignment.wrap_text
    assert ws.row_dimensions[2].height == 30
    assert ws.cell(2, 12).alignment.horizontal == "fill"  # clipped, never spilling


def test_dates_are_dates_and_numbers_are_numbers(compiled: dict[str, Any]) -> None:
    ws = compiled["book"]["明细"]
    row = next(ws.iter_rows(min_row=2, max_row=2))
    assert row[10].is_date
    assert row[10].number_format == "yyyy-mm-dd hh:mm"
    assert row[9].is_date
    assert row[9].number_format == "yyyy-mm-dd"
    assert row[2].data_type == "n"


def test_no_unit_text_becomes_a_formula(compiled: dict[str, Any]) -> None:
    book = compiled["book"]
    formulas = [
        (ws.title, cell.coordinate, cell.value)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    texts = {cell.value for row in book["明细"].iter_rows() for cell in row}
    assert set(HOSTILE) <= texts
    assert "=1+1单位" in {c.value for row in book["报送情况"].iter_rows() for c in row}
    hyperlink = next(c for row in book["明细"].iter_rows() for c in row if c.value == HOSTILE[0])
    assert hyperlink.data_type == "s"
    assert hyperlink.quotePrefix


def test_versions_used_are_recorded(compiled: dict[str, Any]) -> None:
    stats = compiled["stats"]
    expected = [
        (u.unit_id, u.latest_version, hashlib.sha256(u.unit_id.encode()).hexdigest())
        for u in compiled["data"].units
        if u.latest_version is not None
    ]
    assert stats.versions_used == expected
    assert stats.units == 30
    rows = list(compiled["book"]["_duban"].iter_rows(values_only=True))
    facts = {r[0]: r[1] for r in rows if r[0] and r[1] is not None}
    assert facts["campaign"] == "nlzf-2026"
    assert facts["as_of"] == AS_OF.isoformat()
    start = rows.index(("unit_id", "version", "sha256"))
    assert [tuple(r) for r in rows[start + 1 :]] == expected
    props = compiled["book"].custom_doc_props
    assert props["duban.versions"].value == len(expected)


def test_same_input_same_file(plan_form: Form, tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_summary(make_input(plan_form), first)
    write_summary(make_input(plan_form), second)
    assert first.read_bytes() == second.read_bytes()


def test_english_sheet_names(plan_form: Form, tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    write_summary(make_input(plan_form, "en"), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Overview", "Units", "Detail", "_duban"]
    assert book["Units"].cell(2, 4).value == "Missing"


def test_detail_past_the_row_limit_continues_on_a_new_sheet(
    plan_form: Form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook_module, "EXCEL_MAX_ROWS", 41)
    path = tmp_path / "split.xlsx"
    stats = write_summary(make_input(plan_form), path)
    book = openpyxl.load_workbook(path)
    details = [ws for ws in book.worksheets if ws.title.startswith("明细")]
    assert [ws.title for ws in details][:2] == ["明细", "明细（续2）"]
    assert all(ws.max_row <= 41 for ws in details)
    assert sum(ws.max_row - 1 for ws in details) == stats.detail_rows
    assert book.sheetnames[-1] == "_duban"


def test_a_unit_twice_stops_the_compile_and_leaves_no_file(plan_form: Form, tmp_path: Path) -> None:
    data = make_input(plan_form)
    twice = list(data.submissions)
    data = replace(data, submissions=[*twice, twice[0]])
    path = tmp_path / "bad.xlsx"
    with pytest.raises(ValueError, match="two submissions"):
        write_summary(data, path)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- bulletin

LATE = {unit_name(i) for i in range(19, 24)}
MISSING = {unit_name(i) for i in range(24, 28)}
ALL_NAMES = {unit_name(i) for i in range(1, 31)}


def listed(lines: list[str], heading: str) -> set[str]:
    """The unit names on the line after the one with ``heading``."""
    index = next(i for i, line in enumerate(lines) if heading in line)
    return {name for name in ALL_NAMES if name in lines[index + 1]}


def html_lines(html: str) -> list[str]:
    blocks = re.sub(r"</?(?:table|tr|td|p|div|br)\b[^>]*>", "\n", html)
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", blocks))
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def bulletin(plan_form: Form) -> Any:
    return render_bulletin_html(make_input(plan_form), environment(), makeup_due="3月16日")


@pytest.mark.parametrize("kind", ["text", "html"])
def test_bulletin_names_exactly_the_late_and_missing_units(bulletin: Any, kind: str) -> None:
    lines = text_lines(bulletin.text) if kind == "text" else html_lines(bulletin.html)
    assert listed(lines, "逾期报送的单位（5个）") == LATE
    assert listed(lines, "未报送的单位（4个）") == MISSING
    assert listed(lines, "被退回待重新报送的单位（2个）") == {unit_name(28), unit_name(29)}
    assert len(listed(lines, "按时报送的单位（18个）")) == 18
    assert any("测试单位23（逾期5个工作日）" in line for line in lines)


def test_bulletin_is_an_official_notice(bulletin: Any) -> None:
    assert bulletin.subject == ("【2026年“能力作风建设提升年”活动】关于《实施方案》报送情况的通报")
    text = bulletin.text
    assert "各镇（区）、各部门：" in text
    assert "应报送单位29个，已报送23个，其中按时报送18个、逾期报送5个；未报送4个" in text
    assert "报送率79.3%，及时率62.1%" in text
    assert "请未报送单位和被退回单位于3月16日前补报。" in text
    assert text.rstrip().endswith("2026年3月12日")


def test_bulletin_html_is_self_contained(bulletin: Any) -> None:
    html = bulletin.html
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", html, flags=re.IGNORECASE)
    assert all(link.lower().startswith("mailto:") for link in links)
    assert "<script" not in html.lower()
    assert "<style" not in html.lower()
    assert "<img" not in html.lower()
    assert "url(" not in html.lower()
    assert 'width="17%"' in html  # the late bar: 5 of 29 expected
    assert "=1+1单位" in html


def test_english_bulletin(plan_form: Form) -> None:
    rendered = render_bulletin_html(make_input(plan_form, "en"), environment())
    lines = text_lines(rendered.text)
    assert listed(lines, "Units that submitted late (5)") == LATE
    assert listed(lines, "Units that have not submitted (4)") == MISSING
    assert "as soon as possible" in rendered.text
    assert "12 March 2026" in rendered.text


def test_bulletin_context_figures(plan_form: Form) -> None:
    context = bulletin_context(make_input(plan_form))
    assert [u["days_late"] for u in context["late"]] == [1, 2, 3, 4, 5]
    assert [s["key"] for s in context["sections"]] == [
        "on_time",
        "late",
        "missing",
        "rejected",
        "exempted",
    ]
    assert [b["key"] for b in context["bars"]] == ["on_time", "late", "missing", "rejected"]


def test_totals_that_contradict_the_units_stop_the_bulletin(plan_form: Form) -> None:
    data = make_input(plan_form)
    wrong = replace(data, totals=replace(data.totals, missing=3))
    with pytest.raises(InconsistentInputError, match="missing 3 ≠ 4"):
        bulletin_context(wrong)


def test_bulletin_docx(plan_form: Form, tmp_path: Path) -> None:
    path = tmp_path / "通报.docx"
    write_bulletin_docx(make_input(plan_form), path, number="优化办通报〔2026〕3号")
    document = docx.Document(str(path))
    section = document.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    lines = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    assert listed(lines, "逾期报送的单位（5个）") == LATE
    assert listed(lines, "未报送的单位（4个）") == MISSING
    title = next(p for p in document.paragraphs if p.text == "关于《实施方案》报送情况的通报")
    assert title.alignment == 1  # centred
    fonts = title.runs[0].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    assert fonts is not None
    assert fonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    intro = next(p for p in document.paragraphs if p.text.startswith("根据"))
    assert intro.paragraph_format.first_line_indent is not None
    table = document.tables[0]
    assert [c.text for c in table.rows[1].cells] == [
        "29",
        "23",
        "18",
        "5",
        "4",
        "2",
        "79.3%",
        "62.1%",
    ]
    assert lines[-2:] == ["市优化办", "2026年3月12日"]
    assert "优化办通报〔2026〕3号" in lines[1]
    with zipfile.ZipFile(path) as z:
        font_table = z.read("word/fontTable.xml").decode()
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in font_table


def test_bulletin_docx_headings_are_heiti_headings(plan_form: Form, tmp_path: Path) -> None:
    path = tmp_path / "通报.docx"
    write_bulletin_docx(make_input(plan_form), path)
    document = docx.Document(str(path))
    headings = [p for p in document.paragraphs if p.text[:2] in ("一、", "二、", "三、")]
    assert [p.text for p in headings] == [
        "一、按时报送的单位（18个）",
        "二、逾期报送的单位（5个）",
        "三、未报送的单位（4个）",
    ]
    for heading in headings:
        fonts = heading.runs[0].element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert fonts is not None
        assert fonts.get(qn("w:eastAsia")) == "黑体"
        level = heading.paragraph_format.element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        assert level is not None
        assert level.get(qn("w:val")) == "0"


def test_bulletin_docx_has_the_chart_of_its_figures(plan_form: Form, tmp_path: Path) -> None:
    path = tmp_path / "通报.docx"
    write_bulletin_docx(make_input(plan_form), path)
    with zipfile.ZipFile(path) as z:
        [image] = [n for n in z.namelist() if n.startswith("word/media/")]
        png = z.read(image)
    assert png == bar_chart([(18, "#70AD47"), (5, "#FFC000"), (4, "#C00000"), (2, "#ED7D31")], 29)
    legend = next(p.text for p in docx.Document(str(path)).paragraphs if "■" in p.text)
    assert legend == "■按时报送 18　■逾期报送 5　■未报送 4　■退回待重报 2"


def test_bar_heights_are_shares_of_the_units_expected() -> None:
    png = bar_chart([(29, "#000000"), (0, "#000000"), (1, "#000000")], 29)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    pixels = zlib.decompress(png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8])
    rows = [pixels[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height)]

    def tall(x: int) -> int:
        return sum(row[3 * x : 3 * x + 3] == b"\0\0\0" for row in rows)

    slot = (width - 80) // 3
    centres = [40 + slot * i + slot // 2 for i in range(3)]
    full, empty, one = (tall(x) for x in centres)
    assert (full, empty) == (height - 1 - 20, 0)  # the whole height under the top margin
    assert one == round(full / 29)


def test_same_bulletin_same_docx(plan_form: Form, tmp_path: Path) -> None:
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    write_bulletin_docx(make_input(plan_form), first)
    write_bulletin_docx(make_input(plan_form), second)
    assert first.read_bytes() == second.read_bytes()


def test_several_sheets_and_numbers(tmp_path: Path) -> None:
    form = Form.model_validate(
        {
            "id": "money",
            "title": "资金",
            "sheets": [
                {
                    "name": "甲表",
                    "columns": [
                        {"key": "n", "label": "数量", "type": "integer"},
                        {"key": "x", "label": "金额", "type": "decimal"},
                    ],
                },
                {"name": "乙表", "columns": [{"key": "d", "label": "日期", "type": "date"}]},
            ],
        }
    )
    units = make_units()[:2]
    submissions = [
        SubmissionData(
            unit_id=u.unit_id,
            unit_name=u.unit_name,
            version=1,
            received_at=DUE,
            sha256="0" * 64,
            rows={
                "甲表": [{"n": 3, "x": "12.50"}, {"n": 4, "x": "1E+2"}, {"n": None, "x": "abc"}],
                "乙表": [{"d": "2026-06-01"}],
            },
        )
        for u in units
    ]
    data = replace(make_input(form), units=units, totals=totals_of(units), submissions=submissions)
    path = tmp_path / "money.xlsx"
    stats = write_summary(data, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概览", "报送情况", "明细-甲表", "明细-乙表", "_duban"]
    first = [r[3:5] for r in book["明细-甲表"].iter_rows(min_row=2, values_only=True)]
    assert first == [(3, 12.5), (4, 100), (None, "abc")] * 2
    assert book["明细-乙表"].cell(2, 4).value == datetime.fromisoformat("2026-06-01")
    assert stats.detail_rows == 8


def test_file_names_in_the_campaign_language(plan_form: Form) -> None:
    data = make_input(plan_form)
    assert file_names(data) == ("实施方案汇总表", "实施方案通报")  # no "once"
    quarter = replace(data, period="2026-Q1", deliverable_title="进展/情况")
    assert file_names(quarter) == (
        "进展_情况（2026年第一季度）汇总表",
        "进展_情况（2026年第一季度）通报",
    )
    english = replace(make_input(plan_form, "en"), period="2026-09", deliverable_title="Plan")
    assert file_names(english) == (
        "Plan (September 2026) summary",
        "Plan (September 2026) bulletin",
    )


def test_a_row_is_as_tall_as_its_longest_answer_up_to_excel_s_limit(
    plan_form: Form, tmp_path: Path
) -> None:
    units = make_units()[:3]
    answers = ["短", "第一行\n第二行\n第三行", "很长的措施" * 200]
    submissions = [
        SubmissionData(u.unit_id, u.unit_name, 1, DUE, "0" * 64,
                       {"实施方案": [{"task": "任务", "measures": text}]})
        for u, text in zip(units, answers, strict=True)
    ]  # fmt: skip
    data = replace(
        make_input(plan_form), units=units, totals=totals_of(units), submissions=submissions
    )
    path = tmp_path / "tall.xlsx"
    write_summary(data, path)
    ws = openpyxl.load_workbook(path)["明细"]
    assert [ws.row_dimensions[r].height for r in (2, 3, 4)] == [None, 45, 405]
