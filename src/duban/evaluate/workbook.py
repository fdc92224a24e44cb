"""The evaluation's workbooks: the ranking (考核排名表), the accountability list (问责名单) for
the coordinator alone, and one unit's score sheet (得分说明) to mail it with its result.

The ranking workbook is what the office files and sorts: every unit on 综合排名 (group by
group, in rank order), one sheet per group with a native bar chart of its totals, each
source's normalised score and weighted points as numbers (a score filled by the missing
policy in italics, a dropped source marked 不计), the total and the mark (红榜, 问责, 免于
问责); then 得分说明, every line of every unit's sheet in words, one row a line; and 说明,
what the evaluation was. The accountability list is a workbook apart, for the coordinator:
the flagged units with rank, total and what decided it, and the exempted ones with why.

Every time written is the report's ``moment`` (the freeze, for a final result): document
properties included, and xlsxwriter dates the zip entries 1980-01-31; the same report gives
the same bytes. Text is written with ``write_string`` only; nothing becomes a formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from duban.adapters.render import format_moment
from duban.adapters.xlsx.streaming import (
    HEADER_FORMAT,
    LINE_HEIGHT,
    print_setup,
    streamed_book,
    text_format,
    unique_sheet_name,
    wrapped_lines,
    write_header,
)
from duban.evaluate.ranking import Placing
from duban.evaluate.report import EvaluationReport
from duban.evaluate.scores import SourceScore
from duban.evaluate.words import (
    decided_words,
    group_title,
    mark_words,
    plain,
    sheet_words,
    stage_words,
)


@dataclass(frozen=True)
class WorkbookWords:
    book: str
    overall_sheet: str
    explain_sheet: str
    about_sheet: str
    columns: tuple[str, str, str, str]  # group, rank, unit id, unit name
    normalised: str  # "{title}\n得分"
    weighted: str  # "{title}\n计分（权重 {weight}）"
    tail: tuple[str, str, str]  # total, mark, decided by
    not_counted: str
    explain_columns: tuple[str, str]  # part, sentence
    about: tuple[str, ...]
    source_weight: str
    legend: str
    chart: str
    accountability: str
    accountability_columns: tuple[str, str, str]  # total, verdict, why
    nobody: str
    unit_sheet: str
    unit_about: tuple[str, ...]
    line_columns: tuple[str, str, str]
    preliminary_note: str
    rank_of: str
    comments_book: str
    comments_columns: tuple[str, str, str]  # source, number of comments, comment
    comments_note: str


ZH = WorkbookWords(
    book="考核排名表", overall_sheet="综合排名", explain_sheet="得分说明", about_sheet="说明",
    columns=("组别", "排名", "单位编码", "单位名称"),
    normalised="{title}\n得分", weighted="{title}\n计分（权重 {weight}）",
    tail=("总分", "结果", "排名依据"), not_counted="不计",
    explain_columns=("项目", "说明"),
    about=("活动", "考核", "结果", "截至", "考核单位", "参评单位", "考核内容及权重", "图例"),
    source_weight="{title} {weight} 分",
    legend="斜体数字：该项无原始数据，按缺失规则计分（0 分或本组平均分）；“不计”：该项不计分，"
           "其权重由其他各项按比例分摊。",
    chart="{group}总分", accountability="问责名单",
    accountability_columns=("总分", "结论", "依据"), nobody="无",
    unit_sheet="得分说明",
    unit_about=("活动", "考核", "结果", "单位", "组别", "总分", "排名", "截至"),
    line_columns=("序号", "项目", "说明"),
    preliminary_note="以上为初步结果。如对得分有异议，请向{coordinator}反映。",
    rank_of="第 {rank} 名（共 {of} 个单位）",
    comments_book="意见建议汇总",
    comments_columns=("评议项目", "条数", "意见建议"),
    comments_note="以上为各单位在计入结果的测评表中收到的意见建议，不含评议人信息，排列顺序与"
                  "评议人无关；仅供考核单位掌握情况，转交被测评单位时不得署名。",
)  # fmt: skip

EN = WorkbookWords(
    book="Evaluation ranking", overall_sheet="Ranking", explain_sheet="Score sheets",
    about_sheet="About", columns=("Group", "Rank", "Unit id", "Unit"),
    normalised="{title}\nscore", weighted="{title}\npoints (weight {weight})",
    tail=("Total", "Mark", "Placed by"), not_counted="not counted",
    explain_columns=("Part", "Line"),
    about=("Campaign", "Evaluation", "Result", "As of", "Evaluated by", "Units",
           "Sources and weights", "Legend"),
    source_weight="{title} {weight}",
    legend="Numbers in italics: no figure, scored by the missing policy (0 or the group's "
           "average); “not counted”: the source does not count and the other weights make up "
           "the whole.",
    chart="{group}: totals", accountability="Accountability list",
    accountability_columns=("Total", "Verdict", "Why"), nobody="none",
    unit_sheet="Score sheet",
    unit_about=("Campaign", "Evaluation", "Result", "Unit", "Group", "Total", "Rank", "As of"),
    line_columns=("No.", "Part", "Line"),
    preliminary_note="This is a preliminary result. Write to {coordinator} about any point "
                     "you dispute.",
    rank_of="{rank} of {of}",
    comments_book="Comments",
    comments_columns=("Source", "Comments", "Comment"),
    comments_note="The comments each unit received on the ballots that count, without the "
                  "evaluators and in an order that says nothing of who wrote which; for the "
                  "office, and passed to a unit without a name.",
)  # fmt: skip

WORDS = {"zh-CN": ZH, "en": EN}
_BORDER = {"border": 1, "border_color": "#BFBFBF", "valign": "top"}
_SCORE = "0.00"
EXPLAIN_WIDTH = 90
CHART_MAX_WIDTH = 1600
"""Pixels: a group of hundreds of units gets a chart as wide as a screen, not a kilometre."""


class _Formats:
    def __init__(self, book: Any) -> None:
        self.header = book.add_format(HEADER_FORMAT)
        self.text = book.add_format(_BORDER)
        self.quoted = book.add_format({**_BORDER, "quote_prefix": True})
        self.wrap = book.add_format({**_BORDER, "text_wrap": True})
        self.number = book.add_format({**_BORDER, "num_format": _SCORE})
        self.filled = book.add_format(
            {**_BORDER, "num_format": _SCORE, "italic": True, "font_color": "#7F7F7F"}
        )
        self.grey = book.add_format({**_BORDER, "font_color": "#7F7F7F"})
        self.total = book.add_format({**_BORDER, "bold": True, "num_format": _SCORE})
        self.commended = book.add_format(
            {**_BORDER, "bg_color": "#E2EFDA", "font_color": "#375623"}
        )
        self.flagged = book.add_format({**_BORDER, "bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.exempt = book.add_format({**_BORDER, "bg_color": "#FFEB9C", "font_color": "#7F6000"})
        self.label = book.add_format({"bold": True, "valign": "top"})
        self.value = book.add_format({"text_wrap": True, "valign": "top"})
        self.left = book.add_format({"align": "left", "valign": "top"})


class _Cells:
    """One sheet's cells: text always as text (quote-prefixed where a spreadsheet would read
    a formula), numbers as numbers, ``None`` as an empty bordered cell."""

    def __init__(self, ws: Any, f: _Formats) -> None:
        self.ws, self.f = ws, f

    def text(self, r: int, c: int, value: str, fmt: Any = None) -> None:
        if not value:
            self.ws.write_blank(r, c, None, fmt or self.f.text)
        else:
            self.ws.write_string(r, c, value, fmt or text_format(value, self.f.text, self.f.quoted))

    def number(self, r: int, c: int, value: Decimal | int | None, fmt: Any = None) -> None:
        if value is None:
            self.ws.write_blank(r, c, None, self.f.text)
        else:
            self.ws.write_number(r, c, float(value), fmt or self.f.number)


def write_ranking(report: EvaluationReport, path: Path) -> None:
    """Write the 考核排名表 of ``report`` to ``path`` (it appears only once complete)."""
    words = WORDS[report.language]
    with streamed_book(path) as book:
        f = _Formats(book)
        taken = {words.overall_sheet, words.explain_sheet, words.about_sheet}
        overall = book.add_worksheet(words.overall_sheet)
        _ranking(overall, report, list(report.evaluation.placings), words, f)
        for group in report.groups:
            name = unique_sheet_name(group_title(report, group.id), taken)
            ws = book.add_worksheet(name)
            placings = report.placings_of(group.id)
            _ranking(ws, report, placings, words, f)
            _chart(book, ws, name, report, placings, words)
        _explained(book.add_worksheet(words.explain_sheet), report, words, f)
        _about(book.add_worksheet(words.about_sheet), report, words, f)
        book.set_properties(_properties(report, words.book))


def write_accountability(report: EvaluationReport, path: Path) -> None:
    """Write the 问责名单 (for the coordinator only): each group's flagged units, then its
    exempted ones, with rank, total and the sheet's own words for what decided it."""
    words = WORDS[report.language]
    with streamed_book(path) as book:
        f = _Formats(book)
        labels = [*words.columns, *words.accountability_columns]
        ws, cells = _unit_list(book, f, words.accountability, labels,
                               [14, 6, 10, 24, 9, 12, EXPLAIN_WIDTH], report.language)  # fmt: skip
        listed = [
            p for g in report.groups for p in report.placings_of(g.id) if p.flagged or p.exempt
        ]
        listed.sort(key=lambda p: (p.exempt, _group_index(report, p.group_id), p.rank))
        for r, placing in enumerate(listed, start=1):
            _unit_columns(cells, r, report, placing)
            cells.number(r, 4, placing.total, f.total)
            cells.text(r, 5, mark_words(report, placing), f.exempt if placing.exempt else f.flagged)
            why = _why(report, placing)
            cells.text(r, 6, why, f.wrap)
            ws.set_row(r, LINE_HEIGHT * wrapped_lines({0: why}, [(0, EXPLAIN_WIDTH)]))
        if not listed:
            cells.text(1, 3, words.nobody)
        ws.autofilter(0, 0, max(len(listed), 1), len(labels) - 1)
        _about(book.add_worksheet(words.about_sheet), report, words, f)
        book.set_properties(_properties(report, words.accountability))


def write_comments(
    report: EvaluationReport, comments: Mapping[str, Mapping[str, Sequence[str]]], path: Path
) -> None:
    """Write the 意见建议汇总 (for the coordinator): each unit's comments, source by source, one
    row a comment, in ranking order; a unit without any is left out."""
    words = WORDS[report.language]
    titles = {s.id: s.title for s in report.sources}
    with streamed_book(path) as book:
        f = _Formats(book)
        labels = [*words.columns, *words.comments_columns]
        ws, cells = _unit_list(book, f, words.comments_book, labels,
                               [14, 6, 10, 24, 14, 6, EXPLAIN_WIDTH], report.language)  # fmt: skip
        r = 0
        for placing in report.evaluation.placings:
            for source_id, by_unit in comments.items():
                texts = by_unit.get(placing.unit_id, ())
                for text in texts:
                    r += 1
                    _unit_columns(cells, r, report, placing)
                    cells.text(r, 4, titles.get(source_id, source_id))
                    cells.number(r, 5, len(texts), f.text)
                    cells.text(r, 6, text, f.wrap)
                    ws.set_row(r, LINE_HEIGHT * wrapped_lines({0: text}, [(0, EXPLAIN_WIDTH)]))
        if not r:
            cells.text(1, 3, words.nobody)
        ws.autofilter(0, 0, max(r, 1), len(labels) - 1)
        ws.write_string(r + 2, 0, words.comments_note, f.label)
        book.set_properties(_properties(report, words.comments_book))


def _unit_list(
    book: Any, f: _Formats, name: str, labels: list[str], widths: list[float], language: str
) -> tuple[Any, _Cells]:
    """A sheet of one row a unit (or a unit's line): the unit columns first, frozen."""
    ws = book.add_worksheet(name)
    _widths(ws, widths)
    write_header(ws, labels, f.header, language=language)
    ws.freeze_panes(1, 4)
    return ws, _Cells(ws, f)


def write_score_sheet(report: EvaluationReport, unit_id: str, path: Path) -> None:
    """Write one unit's 得分说明: what the evaluation was, its total and rank, then every
    line of its sheet in words; a preliminary result says whom to write to about it."""
    words = WORDS[report.language]
    sheet = report.sheet(unit_id)
    with streamed_book(path) as book:
        f = _Formats(book)
        ws = book.add_worksheet(words.unit_sheet)
        cells = _Cells(ws, f)
        print_setup(ws, header=False, language=report.language)
        _widths(ws, [8, 16, EXPLAIN_WIDTH])
        placing = report.placing(unit_id)
        values: list[str | Decimal] = [
            report.title, report.label, stage_words(report), report.name(unit_id),
            group_title(report, sheet.group_id), sheet.total,
            words.rank_of.format(rank=sheet.rank, of=sheet.of) + _mark(report, placing),
            format_moment(report.moment, report.zone, report.language),
        ]  # fmt: skip
        _pairs(ws, 1, words.unit_about, values, f)
        top = len(values) + 1
        for c, label in enumerate(words.line_columns):
            ws.write_string(top, c, label, f.header)
        ws.repeat_rows(top)
        r = top
        for n, said in enumerate(sheet_words(report, sheet), start=1):
            r += 1
            cells.number(r, 0, n, f.text)
            cells.text(r, 1, said.part)
            cells.text(r, 2, said.text, f.wrap)
            ws.set_row(r, LINE_HEIGHT * wrapped_lines({0: said.text}, [(0, EXPLAIN_WIDTH)]))
        if not report.final:
            note = words.preliminary_note.format(coordinator=report.coordinator)
            ws.write_string(r + 2, 0, note, f.label)
        book.set_properties(_properties(report, f"{words.unit_sheet} {report.name(unit_id)}"))


def _mark(report: EvaluationReport, placing: Placing) -> str:
    mark = mark_words(report, placing)
    return f" {mark}" if mark else ""


def _widths(ws: Any, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def _group_index(report: EvaluationReport, group_id: str) -> int:
    return next(n for n, g in enumerate(report.groups) if g.id == group_id)


def _unit_columns(cells: _Cells, r: int, report: EvaluationReport, placing: Placing) -> None:
    cells.text(r, 0, group_title(report, placing.group_id))
    cells.number(r, 1, placing.rank, cells.f.text)
    cells.text(r, 2, placing.unit_id)
    cells.text(r, 3, report.name(placing.unit_id))


def _ranking(
    ws: Any,
    report: EvaluationReport,
    placings: Sequence[Placing],
    words: WorkbookWords,
    f: _Formats,
) -> None:
    sources = report.sources
    heads = [
        head
        for s in sources
        for head in (
            words.normalised.format(title=s.title),
            words.weighted.format(title=s.title, weight=plain(s.weight)),
        )
    ]
    labels = [*words.columns, *heads, *words.tail]
    _widths(ws, [14, 6, 10, 24, *([11] * len(heads)), 9, 10, 16])
    write_header(ws, labels, f.header, language=report.language)
    ws.set_row(0, 45)
    ws.freeze_panes(1, 4)
    cells = _Cells(ws, f)
    for r, placing in enumerate(placings, start=1):
        _unit_columns(cells, r, report, placing)
        col = len(words.columns)
        for line in report.score(placing.unit_id).sources:
            _source_cells(cells, r, col, line, words)
            col += 2
        cells.number(r, col, placing.total, f.total)
        cells.text(r, col + 1, mark_words(report, placing), _mark_format(placing, f))
        cells.text(r, col + 2, decided_words(report, placing.decided_by))
    ws.autofilter(0, 0, max(len(placings), 1), len(labels) - 1)


def _source_cells(cells: _Cells, r: int, col: int, line: SourceScore, words: WorkbookWords) -> None:
    f = cells.f
    if line.state == "dropped":
        cells.text(r, col, words.not_counted, f.grey)
    else:
        cells.number(r, col, line.normalised, f.number if line.state == "measured" else f.filled)
    cells.number(r, col + 1, line.weighted)


def _mark_format(placing: Placing, f: _Formats) -> Any:
    if placing.flagged:
        return f.flagged
    if placing.exempt:
        return f.exempt
    return f.commended if placing.commended else f.text


def _chart(
    book: Any,
    ws: Any,
    name: str,
    report: EvaluationReport,
    placings: Sequence[Placing],
    words: WorkbookWords,
) -> None:
    """A native column chart of the group's totals beside its table. A streamed sheet keeps
    no cells for xlsxwriter to cache in the chart, so the values are given with the ranges
    (``categories_data``, ``values_data``): a viewer that does not recalculate still shows
    the bars."""
    if not placings:
        return
    last = len(placings)
    total_col = len(words.columns) + 2 * len(report.sources)
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": words.tail[0],
            "categories": [name, 1, 3, last, 3],
            "values": [name, 1, total_col, last, total_col],
            "categories_data": [report.name(p.unit_id) for p in placings],
            "values_data": [float(p.total) for p in placings],
            "data_labels": {"value": True, "num_format": _SCORE},
            "fill": {"color": "#4472C4"},
        }
    )
    title = words.chart.format(group=group_title(report, placings[0].group_id))
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0, "max": 100, "major_gridlines": {"visible": True}})
    chart.set_size({"width": min(max(480, 48 * last), CHART_MAX_WIDTH), "height": 300})
    ws.insert_chart(last + 2, 2, chart)


def _explained(ws: Any, report: EvaluationReport, words: WorkbookWords, f: _Formats) -> None:
    labels = [*words.columns, *words.explain_columns]
    _widths(ws, [14, 6, 10, 24, 14, EXPLAIN_WIDTH])
    write_header(ws, labels, f.header, language=report.language)
    ws.freeze_panes(1, 4)
    cells = _Cells(ws, f)
    r = 0
    for placing in report.evaluation.placings:
        for said in sheet_words(report, report.sheet(placing.unit_id)):
            r += 1
            _unit_columns(cells, r, report, placing)
            cells.text(r, 4, said.part)
            cells.text(r, 5, said.text, f.wrap)
            ws.set_row(r, LINE_HEIGHT * wrapped_lines({0: said.text}, [(0, EXPLAIN_WIDTH)]))
    ws.autofilter(0, 0, max(r, 1), len(labels) - 1)


def _about(ws: Any, report: EvaluationReport, words: WorkbookWords, f: _Formats) -> None:
    print_setup(ws, header=False, language=report.language)
    _widths(ws, [16, 80])
    separator = "；" if report.language == "zh-CN" else "; "
    weights = separator.join(
        words.source_weight.format(title=s.title, weight=plain(s.weight)) for s in report.sources
    )
    values: list[str | Decimal] = [
        report.title, report.label, stage_words(report),
        format_moment(report.moment, report.zone, report.language), report.coordinator,
        Decimal(len(report.evaluation.placings)), weights, words.legend,
    ]  # fmt: skip
    _pairs(ws, 0, words.about, values, f)


def _pairs(
    ws: Any, col: int, labels: Sequence[str], values: Sequence[str | Decimal], f: _Formats
) -> None:
    """Label and value rows from the top (what the evaluation was), numbers as numbers."""
    for r, (label, value) in enumerate(zip(labels, values, strict=True)):
        ws.write_string(r, col, label, f.label)
        if isinstance(value, Decimal):
            ws.write_number(r, col + 1, float(value), f.left)
        else:
            ws.write_string(r, col + 1, value, text_format(value, f.value, f.quoted))


def _why(report: EvaluationReport, placing: Placing) -> str:
    """The sheet's own sentences on the unit's place: rank (and what decided it), the flag or
    the exemption with its targets, and how far the unit above is."""
    said = sheet_words(report, report.sheet(placing.unit_id))
    return "\n".join(
        s.text for s in said if s.line.what in ("rank", "flagged", "exempt", "to-pass")
    )


def _properties(report: EvaluationReport, title: str) -> dict[str, Any]:
    """Document properties from the report, not the clock (xlsxwriter writes ``created`` as
    UTC): the same evaluation as of the same moment gives the same workbook."""
    return {
        "title": f"{title} {report.label}（{stage_words(report)}）"
        if report.language == "zh-CN"
        else f"{title} {report.label} ({stage_words(report)})",
        "subject": f"{report.campaign_id}:evaluation:{report.label}",
        "author": report.coordinator,
        "comments": "duban",
        "created": report.moment.astimezone(UTC).replace(tzinfo=None),
    }
