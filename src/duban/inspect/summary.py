"""The inspection summary workbook (督查汇总表) of one round: the scores by unit and item, the
deductions with their reasons, the findings with their rectification items, the typical
problems, and what the round was (draw, window, counts).

The scores sheet is what the office files and sorts: one row a drawn unit, ranked (units whose
sheet has not come back last, marked 未返回), a column per checklist item headed with its
maximum, the total, the percentage of the full mark and whether the sheet came within the
visit window, then the mean of each column over the units that returned. Scores are numbers,
never text, so the office can sum and chart them; what a team typed is written as text only
(``write_string``), never as a formula. Every sheet prints on A4 landscape, header repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from duban.adapters.render import format_moment
from duban.adapters.xlsx.streaming import (
    DATE,
    HEADER_FORMAT,
    date_serial,
    print_setup,
    streamed_book,
    text_format,
    write_header,
)
from duban.inspect.report import InspectionReport, UnitResult
from duban.inspect.sheetcheck import plain_number


@dataclass(frozen=True)
class SummaryWords:
    scores_sheet: str
    deductions_sheet: str
    findings_sheet: str
    problems_sheet: str
    about_sheet: str
    score_columns: tuple[str, str, str, str, str]  # rank, id, name, stratum, team
    score_tail: tuple[str, str, str, str]  # total, percent, on time, findings
    item_header: str  # "{title}（{points}分）"
    pending: str
    mean: str
    yes_no: tuple[str, str]
    deduction_columns: tuple[str, ...]
    finding_columns: tuple[str, ...]
    problem_columns: tuple[str, ...]
    about: tuple[str, ...]
    announced: tuple[str, str]
    none: str
    separator: str


ZH = SummaryWords(
    scores_sheet="得分汇总", deductions_sheet="扣分明细", findings_sheet="发现问题",
    problems_sheet="典型问题", about_sheet="说明",
    score_columns=("排名", "单位编码", "单位名称", "类别", "检查组"),
    score_tail=("总分", "得分率", "按时返回", "发现问题"),
    item_header="{title}（{points}分）", pending="未返回", mean="平均", yes_no=("是", "否"),
    deduction_columns=("排名", "单位名称", "检查项目", "分值", "得分", "扣分", "扣分理由"),
    finding_columns=("序号", "整改编号", "单位编码", "单位名称", "问题描述", "整改措施",
                     "整改时限"),
    problem_columns=("检查项目", "扣分单位数", "合计扣分", "涉及单位", "主要问题"),
    about=("活动", "督查", "轮次", "方式", "检查时段", "抽取种子", "抽取结果哈希", "统计截至",
           "抽取单位", "已返回评分表", "未返回", "逾期返回", "平均分", "发现问题"),
    announced=("提前告知", "明察暗访（不打招呼）"), none="无", separator="、",
)  # fmt: skip

EN = SummaryWords(
    scores_sheet="Scores", deductions_sheet="Deductions", findings_sheet="Findings",
    problems_sheet="Typical problems", about_sheet="About",
    score_columns=("Rank", "Unit id", "Unit", "Stratum", "Team"),
    score_tail=("Total", "Percent", "On time", "Findings"),
    item_header="{title} ({points} pts)", pending="not returned", mean="Mean",
    yes_no=("yes", "no"),
    deduction_columns=("Rank", "Unit", "Item", "Maximum", "Score", "Deducted", "Reason"),
    finding_columns=("No.", "Item code", "Unit id", "Unit", "Finding", "Measure", "Deadline"),
    problem_columns=("Checklist item", "Units", "Points lost", "Units concerned",
                     "Main problems"),
    about=("Campaign", "Inspection", "Round", "Kind", "Visit window", "Seed", "Draw hash",
           "As of", "Units drawn", "Sheets returned", "Not returned", "Returned late",
           "Mean total", "Findings"),
    announced=("announced", "unannounced"), none="none", separator=", ",
)  # fmt: skip

WORDS = {"zh-CN": ZH, "en": EN}
_BORDER = {"border": 1, "border_color": "#BFBFBF", "valign": "top"}


class _Formats:
    def __init__(self, book: Any) -> None:
        self.header = book.add_format(HEADER_FORMAT)
        self.text = book.add_format(_BORDER)
        self.quoted = book.add_format({**_BORDER, "quote_prefix": True})
        self.wrap = book.add_format({**_BORDER, "text_wrap": True})
        self.number = book.add_format({**_BORDER, "num_format": "0.0##"})
        self.lost = book.add_format({**_BORDER, "num_format": "0.0##", "font_color": "#9C0006"})
        self.percent = book.add_format({**_BORDER, "num_format": "0.0%"})
        self.date = book.add_format({**_BORDER, "num_format": DATE, "align": "left"})
        self.grey = book.add_format({**_BORDER, "font_color": "#7F7F7F"})
        self.bold = book.add_format({**_BORDER, "bold": True})
        self.bold_number = book.add_format({**_BORDER, "bold": True, "num_format": "0.0##"})
        self.label = book.add_format({"bold": True})


def write_inspection_summary(report: InspectionReport, path: Path) -> None:
    """Write the 督查汇总表 of ``report`` to ``path`` (it appears only once complete)."""
    words = WORDS[report.header.language]
    with streamed_book(path) as book:
        formats = _Formats(book)
        _scores(book.add_worksheet(words.scores_sheet), report, words, formats)
        _deductions(book.add_worksheet(words.deductions_sheet), report, words, formats)
        _findings(book.add_worksheet(words.findings_sheet), report, words, formats)
        _problems(book.add_worksheet(words.problems_sheet), report, words, formats)
        _about(book.add_worksheet(words.about_sheet), report, words, formats)
        book.set_properties(_properties(report))


def _text(ws: Any, r: int, c: int, value: str | None, f: _Formats, wrap: bool = False) -> None:
    if value is None or value == "":
        ws.write_blank(r, c, None, f.text)
        return
    ws.write_string(r, c, value, f.wrap if wrap else text_format(value, f.text, f.quoted))


def _number(ws: Any, r: int, c: int, value: Decimal | None, fmt: Any, f: _Formats) -> None:
    if value is None:
        ws.write_blank(r, c, None, f.text)
    else:
        ws.write_number(r, c, float(value), fmt)


def _columns(ws: Any, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def _scores(ws: Any, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    items = report.checklist.items
    heads = [words.item_header.format(title=i.title, points=plain_number(i.points)) for i in items]
    labels = [*words.score_columns, *heads, *words.score_tail]
    _columns(ws, [6, 10, 24, 10, 16, *([12] * len(items)), 9, 9, 9, 9])
    write_header(ws, labels, f.header, language=report.header.language)
    ws.freeze_panes(1, 3)
    for r, unit in enumerate(report.units, start=1):
        _score_row(ws, r, unit, report, words, f)
    last = len(report.units) + 1
    _means(ws, last, report, words, f)
    ws.autofilter(0, 0, max(last - 1, 1), len(labels) - 1)


def _score_row(
    ws: Any, r: int, unit: UnitResult, report: InspectionReport, words: SummaryWords, f: _Formats
) -> None:
    if unit.rank is None:
        _text(ws, r, 0, words.pending, f)
    else:
        ws.write_number(r, 0, unit.rank, f.text)
    _text(ws, r, 1, unit.unit_id, f)
    _text(ws, r, 2, unit.unit_name, f)
    _text(ws, r, 3, unit.stratum, f)
    _text(ws, r, 4, words.separator.join(unit.inspectors), f, wrap=True)
    col = 5
    for item in report.checklist.items:
        line = unit.score_of(item.id)
        _number(ws, r, col, None if line is None else line.score,
                f.lost if line is not None and line.deducted > 0 else f.number, f)  # fmt: skip
        col += 1
    _number(ws, r, col, unit.total, f.bold_number, f)
    _number(ws, r, col + 1, None if unit.percent is None else unit.percent / 100, f.percent, f)
    on_time = None if unit.on_time is None else words.yes_no[0 if unit.on_time else 1]
    _text(ws, r, col + 2, on_time, f)
    ws.write_number(r, col + 3, len(unit.findings), f.text)


def _means(ws: Any, r: int, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    ranked = report.ranked
    _text(ws, r, 2, words.mean, f)
    if not ranked:
        return
    for col, item in enumerate(report.checklist.items, start=5):
        scores = [s.score for u in ranked if (s := u.score_of(item.id)) is not None]
        if scores:
            ws.write_number(r, col, float(sum(scores, Decimal(0)) / len(scores)), f.bold_number)
    _number(ws, r, 5 + len(report.checklist.items), report.average, f.bold_number, f)


def _deductions(ws: Any, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    _columns(ws, [6, 24, 24, 8, 8, 8, 50])
    write_header(ws, words.deduction_columns, f.header, language=report.header.language)
    ws.freeze_panes(1, 0)
    titles = {i.id: i.title for i in report.checklist.items}
    r = 0
    for unit in report.ranked:
        for line in unit.scores:
            if line.deducted <= 0:
                continue
            r += 1
            ws.write_number(r, 0, unit.rank or 0, f.text)
            _text(ws, r, 1, unit.unit_name, f)
            _text(ws, r, 2, titles.get(line.item_id, line.item_id), f)
            _number(ws, r, 3, line.points, f.number, f)
            _number(ws, r, 4, line.score, f.number, f)
            _number(ws, r, 5, line.deducted, f.lost, f)
            _text(ws, r, 6, line.reason, f, wrap=True)
    ws.autofilter(0, 0, max(r, 1), len(words.deduction_columns) - 1)


def _findings(ws: Any, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    _columns(ws, [6, 16, 10, 24, 44, 36, 12])
    write_header(ws, words.finding_columns, f.header, language=report.header.language)
    ws.freeze_panes(1, 0)
    r = 0
    for unit in report.units:
        for finding in unit.findings:
            r += 1
            ws.write_number(r, 0, r, f.text)
            _text(ws, r, 1, finding.code, f)
            _text(ws, r, 2, unit.unit_id, f)
            _text(ws, r, 3, unit.unit_name, f)
            _text(ws, r, 4, finding.finding, f, wrap=True)
            _text(ws, r, 5, finding.measure, f, wrap=True)
            serial = date_serial(finding.due)
            if serial is None:
                ws.write_blank(r, 6, None, f.text)
            else:
                ws.write_number(r, 6, serial, f.date)
    ws.autofilter(0, 0, max(r, 1), len(words.finding_columns) - 1)


def _problems(ws: Any, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    _columns(ws, [24, 10, 10, 36, 60])
    write_header(ws, words.problem_columns, f.header, language=report.header.language)
    names = {u.unit_id: u.unit_name for u in report.units}
    for r, problem in enumerate(report.problems, start=1):
        _text(ws, r, 0, problem.title, f)
        ws.write_number(r, 1, len(problem.units), f.text)
        _number(ws, r, 2, problem.lost, f.lost, f)
        _text(ws, r, 3, words.separator.join(names.get(u, u) for u in problem.units), f, True)
        _text(ws, r, 4, "\n".join(problem.reasons), f, wrap=True)


def _about(ws: Any, report: InspectionReport, words: SummaryWords, f: _Formats) -> None:
    h = report.header
    print_setup(ws, header=False, language=h.language)
    _columns(ws, [16, 70])
    window = words.none if h.window is None else f"{h.window[0]} — {h.window[1]}"
    values: list[str | int | Decimal | None] = [
        h.campaign_title, f"{h.inspection_title}（{h.inspection_id}）", h.label,
        words.announced[0 if h.announced else 1], window, h.seed or words.none,
        h.result_hash or words.none,
        format_moment(h.as_of, h.zone, h.language), len(report.units), len(report.ranked),
        len(report.pending), len(report.late), report.average, report.findings,
    ]  # fmt: skip
    for r, (label, value) in enumerate(zip(words.about, values, strict=True)):
        ws.write_string(r, 0, label, f.label)
        if isinstance(value, str):
            ws.write_string(r, 1, value, text_format(value, f.text, f.quoted))
        elif value is None:
            ws.write_string(r, 1, "—", f.grey)
        else:
            ws.write_number(r, 1, float(value), f.text)


def _properties(report: InspectionReport) -> dict[str, Any]:
    """Document properties from the report, not the clock: the same round as of the same
    moment gives the same workbook."""
    h = report.header
    return {
        "title": f"{h.inspection_title} {h.label}",
        "subject": f"{h.campaign_id}:{h.inspection_id}:{h.label}",
        "author": h.coordinator,
        "comments": "duban",
        "created": h.as_of.astimezone(h.zone).replace(tzinfo=None),
    }
