"""The evaluation's outputs (评议考核, issue 17 item 6) from the example worked by hand in
``test_evaluate_scores``: the ranking workbook (考核排名表), the accountability list, one
unit's score sheet (得分说明) in words, and the bulletin (考核通报) as mail and .docx.

The inputs are the example's, with evaluators and ballots given ids that appear nowhere
else, so that a search of every byte written shows none of them; T4's one inspection is named
``quarterly/2026-Q2`` so its deduction reads as the office writes it. Every total, rank and
flag below is the hand-worked one of that module's table.
"""

from __future__ import annotations

import ast
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest

from duban.adapters.render import environment
from duban.evaluate import explain
from duban.evaluate.ballots import Ballot, counted_ballots, public_figure, tally_units
from duban.evaluate.bulletin import bulletin_context, render_bulletin, write_bulletin_docx
from duban.evaluate.evaluation import Evaluation, evaluate
from duban.evaluate.figures import (
    Deduction,
    Duty,
    EvidenceKind,
    Figure,
    InspectionRound,
    ItemRecord,
    adjustments_figure,
    completeness_figure,
    inspection_figure,
    rectification_figure,
    timeliness_figure,
)
from duban.evaluate.ranking import ticket
from duban.evaluate.report import EvaluationReport
from duban.evaluate.words import KINDS, PHRASES, sheet_words
from duban.evaluate.workbook import write_accountability, write_ranking, write_score_sheet
from duban.model.campaign import Language
from duban.model.scoring import Scoring
from tests.test_evaluate_scores import CLOSE, GROUPS, example_inputs, scoring

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
FROZEN = datetime(2026, 12, 20, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
NAMES = {"T1": "金城镇", "T2": "直溪镇", "T3": "薛埠镇", "T4": "指前镇",
         "B1": "市政府办公室", "B2": "市发改委", "B3": "市教育局"}  # fmt: skip
EVALUATORS = [f"PJR-QX{n}7Z" for n in range(5)]
BALLOT_IDS = [f"BLT-WK{n}9H" for n in range(5)]
SECRETS = [*EVALUATORS, *BALLOT_IDS]


def example() -> Evaluation:
    """The hand-worked example, with anonymous-looking evaluator and ballot ids."""
    inputs = example_inputs()
    inputs["rounds"]["T4"] = [
        InspectionRound(
            "quarterly/2026-Q2",
            D(100),
            (Deduction("discipline", "工作作风和纪律", D(20), "明察暗访发现脱岗人员"),),
        )
    ]
    rules = scoring()
    spec = rules.source("public-evaluation").ballot_spec
    sent = [
        Ballot(
            BALLOT_IDS[n],
            EVALUATORS[n],
            "",
            CLOSE - timedelta(days=3),
            {u: marks[n] for u, marks in inputs["marks"].items() if n < len(marks)},
        )
        for n in range(5)
    ]
    counted, _ = counted_ballots(sent, CLOSE)
    tallies = tally_units(counted, spec)
    figures = {
        unit: {
            "timeliness": timeliness_figure(inputs["duties"][unit]),
            "inspection": inspection_figure(inputs["rounds"][unit]),
            "public-evaluation": public_figure(tallies.get(unit), spec),
            "adjustments": adjustments_figure(inputs["adjustments"].get(unit, [])),
        }
        for unit in GROUPS
    }
    return evaluate(rules, GROUPS, figures, "seed-2026")


def report(
    language: Language = "zh-CN", *, final: bool = False, **changes: Any
) -> EvaluationReport:
    fields: dict[str, Any] = {
        "evaluation": example(), "scoring": scoring(), "units": NAMES,
        "campaign_title": '2026年"能力作风建设提升年"活动', "coordinator": "市委督查办",
        "language": language, "zone": SHANGHAI, "label": "2026", "moment": FROZEN,
        "final": final, "campaign_id": "nlzf-2026",
        "deliverables": {"progress": "季度进展报告"}, "inspections": {"quarterly": "季度常规督查"},
    }  # fmt: skip
    fields.update(changes)
    return EvaluationReport(**fields)


def said(r: EvaluationReport, unit_id: str) -> list[str]:
    return [s.sentence(r.language) for s in sheet_words(r, r.sheet(unit_id))]


def test_every_kind_of_line_the_sheet_writes_has_words_in_every_language() -> None:
    """The kinds are read from the source (the evidence kinds and every ``SheetLine(…, "kind"``
    of explain.py), so a kind added there without words here fails this test."""
    tree = ast.parse(Path(explain.__file__).read_text(encoding="utf-8"))
    written = {
        call.args[1].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", None) == "SheetLine"
        and len(call.args) > 1
        and isinstance(call.args[1], ast.Constant)
    }
    assert {"total", "rank", "to-pass", "normalised", "weighted"} <= written
    assert written | set(get_args(EvidenceKind)) <= KINDS
    assert PHRASES["zh-CN"].keys() == PHRASES["en"].keys()


def test_every_point_of_a_sheet_in_words() -> None:
    r = report()
    t2 = said(r, "T2")
    assert t2[:4] == [
        "报送及时率：《季度进展报告》（2026-04）逾期报送（应于 2026-07-03 前报送，"
        "实际 2026-07-05 报送）",
        "报送及时率：应报送 4 项，按时报送 3 项，及时率 75.00%",
        "报送及时率：折算为百分制：0.7500 × 100，计 75.00 分",
        "报送及时率：权重 20（占 20.00%），计入总分 15.00 分",
    ]
    assert "督查考评：2026-q2 检查项1 扣 10 分：推诿扯皮" in t2
    assert "督查考评：接受督查 2 次，平均得分 88.00 分" in t2
    assert "民主评议：有效票 5 张，去掉最高分 100、最低分 80 后平均 86.67 分" in t2
    assert "民主评议：有效票 5 张，去掉最高、最低分后平均 86.67 分，满意率 100.00%" in t2
    assert "加分扣分：扣 3 分：信访事项处置不力（依据：通报）" in t2
    assert "加分扣分：折算为百分制：基础分 100 − 3.00，计 97.00 分（以 0 至 100 分为限）" in t2
    assert t2[-3:] == [
        "综合：总分 85.90 分（以上各项计分之和）",
        "综合：在镇区中排第 2 名（共 4 个单位）",
        "综合：再得 8.91 分可超过上一名（第 1 名，总分 94.80 分）",
    ]
    t3 = said(r, "T3")
    assert "报送及时率：《季度进展报告》（2026-04）未报送（应于 2026-07-03 前报送）" in t3
    assert "督查考评：考核期内未接受督查" in t3
    assert "督查考评：无原始数据，按本组平均分计 86.67 分" in t3
    assert "加分扣分：无加分扣分事项，计 0.00 分" in t3
    t4 = said(r, "T4")
    assert "督查考评：季度常规督查 2026-Q2 工作作风和纪律 扣 20 分：明察暗访发现脱岗人员" in t4
    assert "督查考评：季度常规督查 2026-Q2 得 80.00 分（满分 100 分）" in t4
    assert "报送及时率：考核期内无应报送事项" in t4
    assert "报送及时率：无原始数据，按 0 分计" in t4
    assert "报送及时率：权重 20（占 28.57%），计入总分 0.00 分" in t4
    assert "民主评议：有效票 2 张，少于规定的 3 张，本项不计得分" in t4
    assert "民主评议：无原始数据，本项不计分，其权重由其他各项按比例分摊" in t4
    assert "民主评议：权重 30，本项不计入总分" in t4
    assert "综合：列镇区末位，列入问责名单" in t4
    b2 = said(r, "B2")
    assert "综合：列市级机关末位，因督查考评达到 95 分、民主评议达到 95 分，免于问责" in b2
    b3 = said(r, "B3")
    assert "加分扣分：加 1 分：省级表彰（依据：表彰文件）" in b3
    assert (
        "综合：在市级机关中排第 2 名（共 3 个单位）；与上一名总分相同，督查考评得分较高者在前" in b3
    )
    assert "综合：再得 0.01 分可超过上一名（第 1 名，总分 94.00 分）" in b3
    assert "综合：列镇区前列，列入红榜，予以表扬" in said(r, "T1")


def other_sources() -> tuple[Scoring, Evaluation]:
    """Completeness, rectification and a satisfaction rate in two categories, no groups:
    X1 and X2 score alike and the draw orders them (seed-2026: X1's ticket is smaller)."""
    rules = Scoring.model_validate(
        {
            "sources": [
                {"id": "completeness", "title": "报送完整率", "weight": 30},
                {"id": "rectification", "title": "整改完成率", "weight": 30},
                {"id": "public-evaluation", "title": "满意度测评", "weight": 40,
                 "ballots": {"figure": "satisfaction-rate", "minimum": 2,
                             "categories": {"代表": 2, "群众": 1}}},
            ],
            "ties": ["draw"],
        }
    )  # fmt: skip
    due = date(2026, 6, 5)
    duties = [
        Duty("progress", "2026-Q1", due, due, "on-time"),
        Duty("progress", "2026-Q2", due + timedelta(days=91), None, "missing"),
    ]
    items = [
        ItemRecord("ZG-X-001", "台账不全", date(2026, 10, 31), None),
        ItemRecord("ZG-X-002", "制度缺失", date(2026, 9, 30), date(2026, 9, 20)),
    ]
    spec = rules.source("public-evaluation").ballot_spec
    at = CLOSE - timedelta(days=1)
    sent = [
        Ballot("BLT-A", "PJR-A", "代表", at, {"X1": "满意", "X2": "满意"}),
        Ballot("BLT-B", "PJR-B", "代表", at, {"X1": "不满意", "X2": "不满意"}),
        Ballot("BLT-C", "PJR-C", "群众", at, {"X1": "基本满意", "X2": "基本满意"}),
    ]
    tallies = tally_units(counted_ballots(sent, CLOSE)[0], spec)
    figures: dict[str, dict[str, Figure]] = {
        u: {
            "completeness": completeness_figure(duties),
            "rectification": rectification_figure(items),
            "public-evaluation": public_figure(tallies[u], spec),
        }
        for u in ("X1", "X2")
    }
    return rules, evaluate(rules, {"X1": "all", "X2": "all"}, figures, "seed-2026")


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_completeness_rectification_and_a_satisfaction_rate_in_words(language: Language) -> None:
    rules, evaluation = other_sources()
    r = report(language, evaluation=evaluation, scoring=rules, units={"X1": "甲", "X2": "乙"})
    x2 = said(r, "X2")
    expected = {
        "zh-CN": [
            "报送完整率：《季度进展报告》（2026-Q2）未报送（应于 2026-09-04 前报送）",
            "报送完整率：应报送 2 项，已报送 1 项，完整率 50.00%",
            "整改完成率：整改事项 ZG-X-001 未完成整改（整改时限 2026-10-31）：台账不全",
            "整改完成率：发现问题 2 个，已完成整改 1 个，整改完成率 50.00%",
            "满意度测评：代表：有效票 2 张，票数较少未去掉最高、最低分，平均 50.00 分"
            "（类别权重 2）",
            "满意度测评：有效票 3 张，平均 60.00 分，满意率 66.67%",
            "满意度测评：满意率 66.67%",
            "满意度测评：折算为百分制：0.6667 × 100，计 66.67 分",
            "综合：在全部单位中排第 2 名（共 2 个单位）；与上一名总分相同、各项并列规则均不能区分，"
            "按抽签排序（抽签签号 {ticket}）",
        ],
        "en": [
            "报送完整率: 季度进展报告 (2026-Q2) was not received (due by 2026-09-04)",
            "报送完整率: 1 of 2 due received: completeness 50.00%",
            "整改完成率: rectification item ZG-X-001 not completed (deadline 2026-10-31): 台账不全",
            "整改完成率: 1 of 2 problems rectified: 50.00%",
            "满意度测评: 代表: 2 valid marks, too few to drop the highest and lowest; mean 50.00 "
            "(category weight 2)",
            "满意度测评: 3 valid ballots; mean 60.00, satisfaction 66.67%",
            "满意度测评: satisfaction rate 66.67%",
            "满意度测评: on 0–100: 0.6667 × 100 = 66.67",
            "Overall: rank 2 of 2 in all units; same total as the unit above and no tie rule "
            "tells them apart: ordered by the draw (draw ticket {ticket})",
        ],
    }[language]
    for sentence in expected[:-1]:
        assert sentence in x2
    assert expected[-1].format(ticket=ticket("seed-2026", "X2")) in x2
    assert ticket("seed-2026", "X2").startswith("763427bf")


def cells(book: Any, sheet: str) -> list[list[Any]]:
    return [[c.value for c in row] for row in book[sheet].iter_rows()]


def test_the_ranking_workbook(tmp_path: Path) -> None:
    path = tmp_path / "考核排名表.xlsx"
    write_ranking(report(), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["综合排名", "镇区", "市级机关", "得分说明", "说明"]
    rows = cells(book, "综合排名")
    assert rows[0][:6] == ["组别", "排名", "单位编码", "单位名称", "报送及时率\n得分",
                           "报送及时率\n计分（权重 20）"]  # fmt: skip
    assert rows[0][-3:] == ["总分", "结果", "排名依据"]
    assert [(r[0], r[1], r[2], r[-3], r[-2], r[-1]) for r in rows[1:]] == [
        ("镇区", 1, "T1", 94.8, "红榜", None),
        ("镇区", 2, "T2", 85.9, None, "总分"),
        ("镇区", 3, "T3", 84.67, None, "总分"),
        ("镇区", 4, "T4", 59.28, "问责", "总分"),
        ("市级机关", 1, "B1", 94.0, "红榜", None),
        ("市级机关", 2, "B3", 94.0, None, "督查考评较高"),
        ("市级机关", 3, "B2", 91.13, "免于问责", "总分"),
    ]
    t4 = rows[4]
    assert t4[4:12] == [0, 0, 80, 45.71, "不计", 0, 95, 13.57]
    assert book["综合排名"]["E5"].font.i  # filled by the missing policy: in italics
    assert [r[2] for r in cells(book, "镇区")[1:]] == ["T1", "T2", "T3", "T4"]
    assert [r[2] for r in cells(book, "市级机关")[1:]] == ["B1", "B3", "B2"]
    explained = cells(book, "得分说明")
    assert len(explained) - 1 == sum(len(s.lines) for s in example().sheets)
    assert ["镇区", 4, "T4", "指前镇", "综合", "列镇区末位，列入问责名单"] in explained
    about = {r[0]: r[1] for r in cells(book, "说明")}
    assert about["结果"] == "初步结果"
    assert about["截至"] == "2026年12月20日 10:30"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        charts = sorted(n for n in names if n.startswith("xl/charts/chart"))
        assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
        chart = z.read("xl/charts/chart1.xml").decode("utf-8")
        core = z.read("docProps/core.xml").decode("utf-8")
    assert "<c:barChart>" in chart
    assert "'镇区'!$M$2:$M$5" in chart or "镇区!$M$2:$M$5" in chart
    assert "<c:v>59.28</c:v>" in chart  # cached, for viewers that do not recalculate
    assert "<c:v>指前镇</c:v>" in chart
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2026-12-20T02:30:00Z' in core


def test_the_accountability_list_is_a_workbook_apart(tmp_path: Path) -> None:
    path = tmp_path / "问责名单.xlsx"
    write_accountability(report(), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["问责名单", "说明"]
    rows = cells(book, "问责名单")
    assert rows[0] == ["组别", "排名", "单位编码", "单位名称", "总分", "结论", "依据"]
    assert [r[:6] for r in rows[1:]] == [
        ["镇区", 4, "T4", "指前镇", 59.28, "问责"],
        ["市级机关", 3, "B2", "市发改委", 91.13, "免于问责"],
    ]
    assert rows[1][6].split("\n") == [
        "在镇区中排第 4 名（共 4 个单位）",
        "列镇区末位，列入问责名单",
        "再得 25.40 分可超过上一名（第 3 名，总分 84.67 分）",
    ]
    assert "因督查考评达到 95 分、民主评议达到 95 分，免于问责" in rows[2][6]


def test_one_units_score_sheet(tmp_path: Path) -> None:
    r = report()
    path = tmp_path / "得分说明-直溪镇.xlsx"
    write_score_sheet(r, "T2", path)
    rows = cells(openpyxl.load_workbook(path), "得分说明")
    about = {row[1]: row[2] for row in rows[:8]}
    assert about["单位"] == "直溪镇"
    assert about["总分"] == 85.9
    assert about["排名"] == "第 2 名（共 4 个单位）"
    assert about["结果"] == "初步结果"
    assert rows[9] == ["序号", "项目", "说明"]
    lines = [row for row in rows[10:] if row[1] is not None]
    assert [row[1:] for row in lines] == [[s.part, s.text] for s in sheet_words(r, r.sheet("T2"))]
    assert rows[-1][0] == "以上为初步结果。如对得分有异议，请向市委督查办反映。"
    write_score_sheet(report(final=True), "T1", path)
    rows = cells(openpyxl.load_workbook(path), "得分说明")
    assert rows[6][2] == "第 1 名（共 4 个单位） 红榜"
    assert "以上为初步结果" not in str(rows)


def test_the_bulletin_names_the_red_list_and_the_last_places(tmp_path: Path) -> None:
    r = report()
    mail = render_bulletin(r, environment())
    title = "关于2026年“能力作风建设提升年”活动考核（2026）初步结果的通报"
    assert mail.subject == title
    text = mail.text
    assert (
        "二、红榜\n　　镇区：金城镇（94.80分）。\n　　市级机关：市政府办公室（94.00分）。" in text
    )
    assert "镇区：指前镇（59.28分），排名末位，列入问责名单。" in text
    assert (
        "市级机关：市发改委（91.13分）排名末位，因督查考评达到 95 分、民主评议达到 95 分，"
        "免于问责。" in text
    )
    assert "本次考核共7个单位参评，分2组排名：镇区4个、市级机关3个。" in text
    assert "考核内容及权重：报送及时率20分、督查考评40分、民主评议30分、加分扣分10分。" in text
    assert "　　4｜指前镇｜0.00｜45.71｜—｜13.57｜59.28｜问责" in text
    assert "六、有关要求\n　　以上为初步结果。" in text
    assert '<html lang="zh-CN">' in mail.html
    assert "三、末位及问责" in mail.html
    assert '<td style="padding: 4px 6px;">市发改委</td>' in mail.html
    context = bulletin_context(r)
    assert context["parts"][1]["units"] == ["T1", "B1"]
    assert (context["parts"][2]["units"], context["parts"][2]["exempt"]) == (["T4"], ["B2"])
    path = tmp_path / "考核通报.docx"
    write_bulletin_docx(r, path, number="督查办〔2026〕9号")
    printed = docx.Document(str(path))
    paragraphs = [p.text for p in printed.paragraphs]
    assert title in paragraphs
    headings = [p for p in paragraphs if p[:2] in {f"{n}、" for n in "一二三四五六七"}]
    assert headings == ["一、总体情况", "二、红榜", "三、末位及问责", "四、镇区考核排名",
                        "五、市级机关考核排名", "六、有关要求"]  # fmt: skip
    table = [[c.text for c in row.cells] for row in printed.tables[1].rows]
    assert table[0] == ["排名", "单位", "报送及时率（20）", "督查考评（40）", "民主评议（30）",
                        "加分扣分（10）", "总分", "结果"]  # fmt: skip
    assert table[2] == ["2", "市教育局", "20.00", "36.00", "28.00", "10.00", "94.00", ""]
    final = render_bulletin(report(final=True), environment())
    assert "最终结果的通报" in final.subject
    assert "以上为最终结果。" in final.text


def written(tmp_path: Path, r: EvaluationReport) -> dict[str, bytes]:
    """Every output of ``r`` as bytes, in a folder of its own."""
    folder = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    write_ranking(r, folder / "ranking.xlsx")
    write_accountability(r, folder / "accountability.xlsx")
    for unit in NAMES:
        write_score_sheet(r, unit, folder / f"sheet-{unit}.xlsx")
    write_bulletin_docx(r, folder / "bulletin.docx")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_same_evaluation_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = written(tmp_path, report(final=True)), written(tmp_path, report(final=True))
    assert first == second
    later = written(tmp_path, report(final=True, moment=FROZEN + timedelta(days=1)))
    assert later["ranking.xlsx"] != first["ranking.xlsx"]  # the moment is what is written
    for name, data in first.items():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            stamps = {i.date_time for i in z.infolist()}
        if name.endswith(".xlsx"):
            assert stamps == {(1980, 1, 31, 0, 0, 0)}, name  # xlsxwriter's, never the clock
        else:
            assert stamps == {(2026, 12, 20, 10, 30, 0)}, name  # the freeze, local time


def test_no_evaluator_appears_in_any_output(tmp_path: Path) -> None:
    """Outputs show counts and trimmed values per unit, never who rated what: no evaluator id
    and no ballot id is anywhere in the workbooks, the documents or the mail."""
    r = report()
    texts: list[str] = []
    for data in written(tmp_path, r).values():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            texts.extend(z.read(i).decode("utf-8", "replace") for i in z.infolist())
    mail = render_bulletin(r, environment())
    texts.extend([mail.subject, mail.text, mail.html])
    texts.extend(s for u in NAMES for s in said(r, u))
    assert any("有效票 5 张" in t for t in texts)
    for secret in SECRETS:
        assert not any(secret in t for t in texts), secret
    assert not any(secret in repr(r.evaluation) for secret in SECRETS)


def test_an_english_evaluation(tmp_path: Path) -> None:
    r = report("en")
    t4 = said(r, "T4")
    assert "督查考评: 季度常规督查 2026-Q2, 工作作风和纪律: 20 deducted: 明察暗访发现脱岗人员" in t4
    assert "Overall: last in 镇区: on the accountability list" in t4
    assert "Overall: 25.40 more points would pass the unit above (rank 3, total 84.67)" in t4
    assert "报送及时率: weight 20 (28.57% of the total): 0.00 points" in t4
    write_ranking(r, tmp_path / "ranking.xlsx")
    book = openpyxl.load_workbook(tmp_path / "ranking.xlsx")
    assert book.sheetnames == ["Ranking", "镇区", "市级机关", "Score sheets", "About"]
    assert cells(book, "Ranking")[4][-3:] == [59.28, "accountable", "total"]
    write_accountability(r, tmp_path / "accountability.xlsx")
    listed = cells(openpyxl.load_workbook(tmp_path / "accountability.xlsx"), "Accountability list")
    assert [row[5] for row in listed[1:]] == ["accountable", "exempt"]
    mail = render_bulletin(r, environment())
    assert mail.subject == (
        'Bulletin on the evaluation of the 2026年"能力作风建设提升年"活动 '
        "(2026, preliminary result)"
    )
    assert "  2. Commended\n  镇区: 金城镇 (94.80).\n  市级机关: 市政府办公室 (94.00)." in mail.text
    assert "市级机关: 市发改委 (91.13), last, exempt from accountability: 督查考评 reached 95, " \
           "民主评议 reached 95." in mail.text  # fmt: skip
    assert '<html lang="en">' in mail.html
