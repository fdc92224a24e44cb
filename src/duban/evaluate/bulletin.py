"""The evaluation bulletin (考核通报): an e-mail (HTML and text) and a .docx, in the official
layout the inspection bulletin shares (``templates/official.html``, ``write_notice_docx``).

It says what was evaluated (how many units in which groups, the sources and their weights),
the red list (红榜: each group's commended units with their totals), the last places (末位:
each group's flagged units, and a last unit exempted from accountability with the targets it
met), each group's ranking as a table of weighted points by source, and what the units must
now do: check their score sheets and raise any objection while the result is preliminary, or
learn from it once final. Every figure comes from the ``EvaluationReport`` the workbooks are
written from; no evaluator is named, since the report holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment

from duban.adapters.render import Rendered, render_message
from duban.compile.bulletin_docx import write_notice_docx
from duban.compile.texts import day_text
from duban.evaluate.decimals import mean
from duban.evaluate.ranking import Placing
from duban.evaluate.report import EvaluationReport
from duban.evaluate.words import (
    group_title,
    mark_words,
    plain,
    points,
    stage_words,
    targets_words,
)
from duban.model.scoring import Group

TEMPLATE = "evaluation-bulletin"


@dataclass(frozen=True)
class BulletinWords:
    title: str
    salutation: str
    date_line: str
    intro: str
    headings: tuple[str, str, str, str]  # overall, red list, last places, requirements
    ranking_heading: str
    groups: str
    group_count: str
    weights: str
    source_weight: str
    group_figures: str
    named: str
    commended: str
    flagged: str
    exempt: str
    none: str
    columns: tuple[str, str]  # rank, unit
    source_column: str
    tail: tuple[str, str]  # total, mark
    table_title: str
    requirements: dict[str, tuple[str, ...]]
    separator: str
    end: str


ZH = BulletinWords(
    title="关于{campaign}考核（{label}）{stage}的通报",
    salutation="各镇（区）、各部门：",
    date_line="（{date}）",
    intro="根据{campaign}考核办法，{office}对参评的{count}个单位进行了考核（{label}），"
          "从{sources}等方面综合评定、分组排名。现将考核{stage}通报如下：",
    headings=("总体情况", "红榜", "末位及问责", "有关要求"),
    ranking_heading="{group}考核排名",
    groups="本次考核共{count}个单位参评，分{groups}组排名：{counts}。",
    group_count="{group}{count}个",
    weights="考核内容及权重：{weights}。各项得分折算为百分制后按权重计入总分，总分满分100分。",
    source_weight="{title}{weight}分",
    group_figures="{group}共{count}个单位，平均得分{average}分，最高{best}分，最低{worst}分。",
    named="{name}（{total}分）",
    commended="{group}：{names}。",
    flagged="{group}：{names}，排名末位，列入问责名单。",
    exempt="{group}：{name}排名末位，因{reason}，免于问责。",
    none="无。",
    columns=("排名", "单位"),
    source_column="{title}（{weight}）",
    tail=("总分", "结果"),
    table_title="{group}考核得分",
    requirements={
        "preliminary": (
            "以上为初步结果。各单位可对照本单位得分说明逐项核对，如有异议，请在公示期内向"
            "{office}书面反映，并附相关依据；逾期未反映的，视为无异议。",
        ),
        "final": (
            "以上为最终结果。各单位要对照得分说明查找差距、补齐短板；列入问责名单的单位要"
            "认真剖析原因，提出整改措施，并按有关规定落实问责。",
        ),
    },
    separator="、", end="。",
)  # fmt: skip

EN = BulletinWords(
    title="Bulletin on the evaluation of the {campaign} ({label}, {stage} result)",
    salutation="To all participating units:",
    date_line="({date})",
    intro="Under the {campaign}'s evaluation rules, {office} evaluated the {count} "
          "participating units for {label} on {sources}, ranking them within groups. The "
          "{stage} result is as follows.",
    headings=("Overview", "Commended", "Last places and accountability", "Requirements"),
    ranking_heading="Ranking: {group}",
    groups="{count} units took part, ranked in {groups} groups: {counts}.",
    group_count="{group} {count}",
    weights="Sources and weights: {weights}. Each source is scored from 0 to 100 and counts "
            "by its weight; the total is out of 100.",
    source_weight="{title} {weight}",
    group_figures="{group}: {count} units, mean total {average}, highest {best}, "
                  "lowest {worst}.",
    named="{name} ({total})",
    commended="{group}: {names}.",
    flagged="{group}: {names}, last: on the accountability list.",
    exempt="{group}: {name}, last, exempt from accountability: {reason}.",
    none="None.",
    columns=("Rank", "Unit"),
    source_column="{title} ({weight})",
    tail=("Total", "Mark"),
    table_title="{group}: points",
    requirements={
        "preliminary": (
            "This is a preliminary result. Each unit may check its score sheet line by line "
            "and write to {office} with its evidence about any point it disputes while the "
            "result is published; a unit that does not is taken to agree.",
        ),
        "final": (
            "This is the final result. Each unit is asked to study its score sheet and close "
            "its gaps; units on the accountability list are to analyse the causes and report "
            "their measures.",
        ),
    },
    separator=", ", end=".",
)  # fmt: skip

WORDS = {"zh-CN": ZH, "en": EN}


def bulletin_context(report: EvaluationReport, number: str | None = None) -> dict[str, Any]:
    """Everything the bulletin shows, as plain data for Jinja and for the .docx writer."""
    w = WORDS[report.language]
    issued = day_text(report.moment.astimezone(report.zone).date(), report.language)
    stage = stage_words(report)
    title = w.title.format(campaign=report.title, label=report.label, stage=stage)
    parts = [
        _overall(report, w),
        _commended(report, w),
        _last(report, w),
        *(_ranking(report, g, w) for g in report.groups),
        _requirements(report, w),
    ]
    return {
        "language": report.language, "zone": report.zone, "as_of": report.moment,
        "number": number, "final": report.final,
        "campaign": {"id": report.campaign_id, "title": report.campaign_title},
        "evaluation": {"label": report.label, "stage": stage},
        "coordinator": {"name": report.coordinator}, "issued_on": issued,
        "subject": f"{report.campaign_id} evaluation {report.label}".strip(),
        "text": {
            "title": title, "date_line": w.date_line.format(date=issued),
            "salutation": w.salutation, "intro": _intro(report, w, stage), "closing": [],
        },
        "parts": parts,
    }  # fmt: skip


def render_bulletin(report: EvaluationReport, env: Environment) -> Rendered:
    """Subject, plain text and HTML of the e-mailed bulletin (``evaluation-bulletin.*``)."""
    return render_message(env, report.language, TEMPLATE, bulletin_context(report))


def write_bulletin_docx(report: EvaluationReport, path: Path, number: str | None = None) -> None:
    """The printable bulletin; its times are the report's moment, so its bytes repeat."""
    write_notice_docx(bulletin_context(report, number), path)


def _intro(report: EvaluationReport, w: BulletinWords, stage: str) -> str:
    sources = w.separator.join(s.title for s in report.sources)
    return w.intro.format(
        campaign=report.title, office=report.coordinator, count=len(report.evaluation.placings),
        label=report.label, sources=sources, stage=stage,
    )  # fmt: skip


def _overall(report: EvaluationReport, w: BulletinWords) -> dict[str, Any]:
    counts = w.separator.join(
        w.group_count.format(group=group_title(report, g.id), count=len(report.placings_of(g.id)))
        for g in report.groups
    )
    weights = w.separator.join(
        w.source_weight.format(title=s.title, weight=plain(s.weight)) for s in report.sources
    )
    lines = [
        w.groups.format(
            count=len(report.evaluation.placings), groups=len(report.groups), counts=counts
        ),
        w.weights.format(weights=weights),
    ]
    return {"heading": w.headings[0], "paragraphs": lines, "table": None}


def _figures(report: EvaluationReport, group: Group, w: BulletinWords) -> str:
    totals = [p.total for p in report.placings_of(group.id)]
    return w.group_figures.format(
        group=group_title(report, group.id), count=len(totals),
        average=points(mean(totals)), best=points(max(totals)), worst=points(min(totals)),
    )  # fmt: skip


def _named(report: EvaluationReport, placings: list[Placing], w: BulletinWords) -> str:
    return w.separator.join(
        w.named.format(name=report.name(p.unit_id), total=points(p.total)) for p in placings
    )


def _commended(report: EvaluationReport, w: BulletinWords) -> dict[str, Any]:
    lines: list[str] = []
    units: list[str] = []
    for group in report.groups:
        found = [p for p in report.placings_of(group.id) if p.commended]
        if found:
            names = _named(report, found, w)
            lines.append(w.commended.format(group=group_title(report, group.id), names=names))
            units.extend(p.unit_id for p in found)
    return {"heading": w.headings[1], "paragraphs": lines or [w.none], "table": None,
            "units": units}  # fmt: skip


def _last(report: EvaluationReport, w: BulletinWords) -> dict[str, Any]:
    lines: list[str] = []
    flagged: list[str] = []
    exempt: list[str] = []
    for group in report.groups:
        title = group_title(report, group.id)
        placings = report.placings_of(group.id)
        found = [p for p in placings if p.flagged]
        if found:
            lines.append(w.flagged.format(group=title, names=_named(report, found, w)))
            flagged.extend(p.unit_id for p in found)
        for p in placings:
            if p.exempt:
                lines.append(w.exempt.format(group=title, name=_named(report, [p], w),
                                             reason=_exemption(report, p)))  # fmt: skip
                exempt.append(p.unit_id)
    return {"heading": w.headings[2], "paragraphs": lines or [w.none], "table": None,
            "units": flagged, "exempt": exempt}  # fmt: skip


def _exemption(report: EvaluationReport, placing: Placing) -> str:
    """The targets the unit met, in the score sheet's own words."""
    line = next(line for line in report.sheet(placing.unit_id).lines if line.what == "exempt")
    return targets_words(report, line.facts)


def _ranking(report: EvaluationReport, group: Group, w: BulletinWords) -> dict[str, Any]:
    title = group_title(report, group.id)
    placings = report.placings_of(group.id)
    heads = [w.source_column.format(title=s.title, weight=plain(s.weight)) for s in report.sources]
    rows = [[*w.columns, *heads, *w.tail]]
    for p in placings:
        weighted = [
            "—" if s.state == "dropped" else points(s.weighted)
            for s in report.score(p.unit_id).sources
        ]
        rows.append([str(p.rank), report.name(p.unit_id), *weighted, points(p.total),
                     mark_words(report, p)])  # fmt: skip
    paragraphs = [_figures(report, group, w)] if placings else [w.none]
    table = {"title": w.table_title.format(group=title), "rows": rows} if placings else None
    return {"heading": w.ranking_heading.format(group=title), "paragraphs": paragraphs,
            "table": table}  # fmt: skip


def _requirements(report: EvaluationReport, w: BulletinWords) -> dict[str, Any]:
    lines = w.requirements["final" if report.final else "preliminary"]
    return {"heading": w.headings[3],
            "paragraphs": [line.format(office=report.coordinator) for line in lines],
            "table": None}  # fmt: skip
