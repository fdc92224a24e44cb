"""The inspection bulletin (督查通报) of one round: an e-mail (HTML and text) and a .docx.

It says what the round was (who inspected how many units, when, drawn how), the scores (a
ranked table), which units did best and worst, the typical problems with the units they
concern and the teams' own words, and what the units must now rectify, by when. Every figure
and every unit named comes from the ``InspectionReport`` the summary workbook is written from.

A unit whose sheet has not come back is named as pending, never ranked last: it is the team's
sheet that is missing. The best and worst are named only when there are enough units for both
lists to be distinct (``NAMED`` each, at least twice as many ranked units).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment

from duban.adapters.render import Rendered, render_message
from duban.compile.bulletin_docx import write_notice_docx
from duban.compile.texts import day_text
from duban.inspect.report import InspectionReport, UnitResult
from duban.inspect.sheetcheck import plain_number

TEMPLATE = "inspection-bulletin"
NAMED = 3
"""Units named among the best, and among the worst."""


@dataclass(frozen=True)
class BulletinWords:
    title: str
    salutation: str
    date_line: str
    intro: str
    drawn: str
    window: str
    unannounced: str
    headings: tuple[str, str, str, str]  # overall, best, worst, problems
    rectify_heading: str
    overall: str
    late: str
    pending: str
    table_title: str
    columns: tuple[str, ...]
    named: str  # one unit: "{name}（{total}分）"
    none: str
    problem: str
    no_problems: str
    rectify: str
    no_findings: str
    findings_title: str
    finding_columns: tuple[str, ...]
    closing: tuple[str, ...]
    separator: str
    reasons_separator: str
    end: str


ZH = BulletinWords(
    title="关于{inspection}（{label}）情况的通报",
    salutation="各镇（区）、各部门：",
    date_line="（{date}）",
    intro="根据{campaign}工作安排，{office}{window}对{count}个单位开展了{inspection}{kind}。"
          "检查对象和检查人员均按“双随机”方式抽取{drawn}。现将有关情况通报如下：",
    drawn="（抽取种子 {seed}，抽取结果已公示）",
    window="于{first}至{last}",
    unannounced="（明察暗访）",
    headings=("总体情况", "得分较高的单位", "得分较低的单位", "存在的主要问题"),
    rectify_heading="整改要求",
    overall="本次共抽查{count}个单位，收回评分表{returned}份，平均得分{average}分（满分{full}分）。",
    late="其中{count}份评分表逾期返回。",
    pending="{names}的评分表尚未返回，其结果另行通报。",
    table_title="督查得分情况",
    columns=("排名", "单位", "得分", "得分率"),
    named="{name}（{total}分）",
    none="无。",
    problem="{title}：{count}个单位被扣分，合计扣{lost}分，主要表现为{reasons}。涉及单位：{units}。",
    no_problems="本次督查各检查项目均未扣分。",
    rectify="本次督查共发现问题{count}条，已全部列入整改台账。请{units}对照问题清单，"
            "按期完成整改，并在整改进展报告中逐条报送整改情况。",
    no_findings="本次督查未发现需列入整改台账的问题。",
    findings_title="问题清单",
    finding_columns=("编号", "单位", "问题", "整改时限"),
    closing=("各单位要以此次督查为契机，举一反三、查漏补缺，切实把各项工作抓细抓实。",),
    separator="、", reasons_separator="；", end="。",
)  # fmt: skip

EN = BulletinWords(
    title="Bulletin on the inspection “{inspection}” ({label})",
    salutation="To all participating units:",
    date_line="({date})",
    intro="Under the {campaign}, {office} inspected {count} units{window} ({inspection}{kind}). "
          "The units and the inspectors were both drawn at random{drawn}. The results are as "
          "follows.",
    drawn=" (seed {seed}; the draw has been published)",
    window=" from {first} to {last}",
    unannounced=", unannounced",
    headings=("Overview", "Highest scores", "Lowest scores", "Main problems"),
    rectify_heading="Rectification",
    overall="{count} units were inspected and {returned} scoresheets returned; the mean score "
            "is {average} of {full}.",
    late="{count} scoresheets came back after the visit window.",
    pending="The scoresheets of {names} have not come back; their results will follow.",
    table_title="Scores",
    columns=("Rank", "Unit", "Score", "Percent"),
    named="{name} ({total})",
    none="None.",
    problem="{title}: points deducted from {count} units, {lost} in all, mainly: {reasons}. "
            "Units concerned: {units}.",
    no_problems="No points were deducted on any checklist item.",
    rectify="The inspection found {count} problems, all entered in the rectification "
            "ledger. {units} are asked to rectify each by its deadline and report on each in "
            "their progress reports.",
    no_findings="The inspection found no problem to enter in the rectification ledger.",
    findings_title="Problems found",
    finding_columns=("Code", "Unit", "Problem", "Deadline"),
    closing=("All units are asked to learn from these findings and check their own work.",),
    separator=", ", reasons_separator="; ", end=".",
)  # fmt: skip

WORDS = {"zh-CN": ZH, "en": EN}


def bulletin_context(report: InspectionReport, number: str | None = None) -> dict[str, Any]:
    """Everything the bulletin shows, as plain data for Jinja and for the .docx writer."""
    h = report.header
    w = WORDS[h.language]
    issued = day_text(h.as_of.astimezone(h.zone).date(), h.language)
    parts = [_overall(report, w), _named(w.headings[1], report.top(NAMED), w),
             _named(w.headings[2], report.bottom(NAMED), w), _problems(report, w),
             _rectify(report, w)]  # fmt: skip
    return {
        "language": h.language, "zone": h.zone, "as_of": h.as_of, "number": number,
        "campaign": {"id": h.campaign_id, "title": h.campaign_title},
        "inspection": {"id": h.inspection_id, "title": h.inspection_title, "label": h.label},
        "coordinator": {"name": h.coordinator}, "issued_on": issued,
        "subject": f"{h.inspection_id} {h.label}",
        "text": {
            "title": w.title.format(inspection=h.inspection_title, label=h.label),
            "date_line": w.date_line.format(date=issued), "salutation": w.salutation,
            "intro": _intro(report, w), "closing": list(w.closing),
        },
        "parts": parts,
    }  # fmt: skip


def render_bulletin(report: InspectionReport, env: Environment) -> Rendered:
    """Subject, plain text and HTML of the e-mailed bulletin (``inspection-bulletin.*``)."""
    return render_message(env, report.header.language, TEMPLATE, bulletin_context(report))


def write_bulletin_docx(report: InspectionReport, path: Path) -> None:
    """The printable bulletin, laid out as the deliverables' bulletins are."""
    write_notice_docx(bulletin_context(report), path)


def _intro(report: InspectionReport, w: BulletinWords) -> str:
    h = report.header
    window = ""
    if h.window is not None:
        window = w.window.format(first=_day(h.window[0], report), last=_day(h.window[1], report))
    return w.intro.format(
        campaign=h.campaign_title, office=h.coordinator, window=window, count=len(report.units),
        inspection=h.inspection_title, kind="" if h.announced else w.unannounced,
        drawn="" if h.seed is None else w.drawn.format(seed=h.seed),
    )  # fmt: skip


def _day(day: date, report: InspectionReport) -> str:
    return day_text(day, report.header.language)


def _overall(report: InspectionReport, w: BulletinWords) -> dict[str, Any]:
    average = "—" if report.average is None else plain_number(report.average)
    full = plain_number(report.checklist.total)
    lines = [w.overall.format(count=len(report.units), returned=len(report.ranked),
                              average=average, full=full)]  # fmt: skip
    if report.late:
        lines[0] += w.late.format(count=len(report.late))
    if report.pending:
        names = w.separator.join(u.unit_name for u in report.pending)
        lines[0] += w.pending.format(names=names)
    rows = [list(w.columns), *(_score_row(u) for u in report.ranked)]
    return {"heading": w.headings[0], "paragraphs": lines,
            "table": {"title": w.table_title, "rows": rows} if report.ranked else None}  # fmt: skip


def _score_row(unit: UnitResult) -> list[str]:
    total = _points(unit.total)
    percent = "" if unit.percent is None else f"{unit.percent}%"
    return [str(unit.rank), unit.unit_name, total, percent]


def _named(heading: str, units: tuple[UnitResult, ...], w: BulletinWords) -> dict[str, Any]:
    names = [
        w.named.format(name=u.unit_name, total=plain_number(u.total or Decimal(0))) for u in units
    ]
    line = w.separator.join(names) + w.end if names else w.none
    return {"heading": heading, "paragraphs": [line], "table": None,
            "units": [u.unit_id for u in units]}  # fmt: skip


def _points(total: Decimal | None) -> str:
    return "" if total is None else plain_number(total)


def _problems(report: InspectionReport, w: BulletinWords) -> dict[str, Any]:
    names = {u.unit_id: u.unit_name for u in report.units}
    lines = [
        w.problem.format(
            title=p.title,
            count=len(p.units),
            lost=plain_number(p.lost),
            reasons=w.reasons_separator.join(p.reasons),
            units=w.separator.join(names[u] for u in p.units),
        )
        for p in report.problems
    ]
    return {"heading": w.headings[3], "paragraphs": lines or [w.no_problems], "table": None}


def _rectify(report: InspectionReport, w: BulletinWords) -> dict[str, Any]:
    concerned = [u for u in report.units if u.findings]
    if not concerned:
        return {"heading": w.rectify_heading, "paragraphs": [w.no_findings], "table": None}
    line = w.rectify.format(count=report.findings,
                            units=w.separator.join(u.unit_name for u in concerned))  # fmt: skip
    rows = [list(w.finding_columns)] + [
        [f.code, u.unit_name, f.finding, "" if f.due is None else _day(f.due, report)]
        for u in concerned
        for f in u.findings
    ]
    return {"heading": w.rectify_heading, "paragraphs": [line],
            "table": {"title": w.findings_title, "rows": rows}}  # fmt: skip
