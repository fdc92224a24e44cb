"""The score sheet (得分说明) in words: every line a sentence the unit can check by hand.

``explain`` gives lines as kinds, values and named facts; here each becomes a sentence in the
campaign's language (zh-CN or en), under the part of the score it belongs to: a source's
title (报送及时率, 督查考评 …) or the whole (综合). A sentence says what the line says and no
more: the dates of a late duty, the deduction and its reason as recorded, the ballots' counts
and trimmed values (never who rated what), the sum that turned a raw figure into 0–100, the
weight and its share, the rank and what decided it, the flag, exemption or commendation, and
the points it would take to pass the next unit up.

A few sentences depend on the lines before them in the same source: the normalised line
repeats the raw figure it started from, the ballots line says whether marks were dropped (as
its pools did), and the weighted line of a dropped source says it does not count. Every kind
``explain`` writes is in ``KINDS``, and each language has a phrase for every key
(``PHRASES``): a kind without words is a test failure, not a blank on a unit's sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from duban.evaluate.explain import WHOLE, ScoreSheet, SheetLine
from duban.evaluate.figures import Facts
from duban.evaluate.ranking import Placing
from duban.evaluate.report import EvaluationReport
from duban.model.scoring import ScoreSource

Fields = dict[str, str]

ZH: dict[str, str] = {
    "source": "{part}：{text}",
    "whole": "综合",
    "stage.preliminary": "初步结果",
    "stage.final": "最终结果",
    "mark.commended": "红榜",
    "mark.flagged": "问责",
    "mark.exempt": "免于问责",
    "all-units": "全部单位",
    "separator": "、",
    "late": "《{deliverable}》{period}逾期报送（应于 {due} 前报送，实际 {received} 报送）",
    "missing": "《{deliverable}》{period}未报送（应于 {due} 前报送）",
    "round": "{round} 得 {score} 分（满分 {of} 分）",
    "deduction": "{round} {item} 扣 {points} 分：{reason}",
    "open-item": "整改事项 {code} 未完成整改（整改时限 {due}）：{finding}",
    "category": "{category}：",
    "pool": "{category}有效票 {count} 张，去掉最高分 {high}、最低分 {low} 后平均 {mean} 分{weight}",
    "pool.untrimmed": "{category}有效票 {count} 张，票数较少未去掉最高、最低分，平均 {mean} 分"
    "{weight}",
    "pool.weight": "（类别权重 {weight}）",
    "ballots": "有效票 {valid} 张{spoiled}，去掉最高、最低分后平均 {mean} 分，"
    "满意率 {satisfaction}",
    "ballots.untrimmed": "有效票 {valid} 张{spoiled}，平均 {mean} 分，满意率 {satisfaction}",
    "ballots.insufficient": "有效票 {valid} 张{spoiled}，少于规定的 {minimum} 张，本项不计得分",
    "spoiled": "（另有废票 {spoiled} 张）",
    "bonus": "加 {points} 分：{reason}{evidence}",
    "penalty": "扣 {points} 分：{reason}{evidence}",
    "correction": "复核更正（{subject}）：原为 {was}，更正为 {value}。理由：{reason}",
    "evidence": "（依据：{evidence}）",
    "figure.timeliness": "应报送 {expected} 项，按时报送 {on_time} 项，及时率 {rate}",
    "figure.completeness": "应报送 {expected} 项，已报送 {received} 项，完整率 {rate}",
    "figure.inspection": "接受督查 {rounds} 次，平均得分 {raw} 分",
    "figure.rectification": "发现问题 {found} 个，已完成整改 {closed} 个，整改完成率 {rate}",
    "figure.public-evaluation": "评议得分 {raw} 分",
    "figure.public-evaluation.rate": "满意率 {rate}",
    "figure.adjustments": "加分扣分 {items} 项，合计 {raw} 分",
    "figure.adjustments.empty": "无加分扣分事项，计 0.00 分",
    "figure.none": "无可计算的原始数据",
    "figure.timeliness.none": "考核期内无应报送事项",
    "figure.completeness.none": "考核期内无应报送事项",
    "figure.inspection.none": "考核期内未接受督查",
    "figure.rectification.none": "考核期内无整改事项",
    "figure.public-evaluation.none": "有效票 {valid} 张，票数不足，本项无得分",
    "normalised.rate": "折算为百分制：{raw} × 100，计 {value} 分",
    "normalised.points": "折算为百分制：{raw} ÷ {max} × 100，计 {value} 分",
    "normalised.offset": "折算为百分制：基础分 {base} {sign} {amount}，计 {value} 分"
    "（以 0 至 100 分为限）",
    "normalised.best": "折算为百分制：{raw} ÷ 本组最高 {best} × 100，计 {value} 分",
    "filled.zero": "无原始数据，按 0 分计",
    "filled.group-average": "无原始数据，按本组平均分计 {value} 分",
    "dropped": "无原始数据，本项不计分，其权重由其他各项按比例分摊",
    "weighted": "权重 {weight}（占 {share}%），计入总分 {value} 分",
    "weighted.dropped": "权重 {weight}，本项不计入总分",
    "total": "总分 {value} 分（以上各项计分之和）",
    "rank": "在{group}中排第 {rank} 名（共 {of} 个单位）{decided}{ticket}",
    "decided.total": "",
    "decided.higher": "；与上一名总分相同，{source}得分较高者在前",
    "decided.lower": "；与上一名总分相同，{source}得分较低者在前",
    "decided.draw": "；与上一名总分相同、各项并列规则均不能区分，按抽签排序",
    "ticket": "（抽签签号 {ticket}）",
    "flagged": "列{group}末位，列入问责名单",
    "exempt": "列{group}末位，因{targets}，免于问责",
    "target": "{source}达到 {target} 分",
    "commended": "列{group}前列，列入红榜，予以表扬",
    "to-pass": "再得 {value} 分可超过上一名（第 {rank} 名，总分 {total} 分）",
}

EN: dict[str, str] = {
    "source": "{part}: {text}",
    "whole": "Overall",
    "stage.preliminary": "preliminary",
    "stage.final": "final",
    "mark.commended": "commended",
    "mark.flagged": "accountable",
    "mark.exempt": "exempt",
    "all-units": "all units",
    "separator": ", ",
    "late": "{deliverable}{period} came late (due by {due}, received {received})",
    "missing": "{deliverable}{period} was not received (due by {due})",
    "round": "{round}: {score} of {of}",
    "deduction": "{round}, {item}: {points} deducted: {reason}",
    "open-item": "rectification item {code} not completed (deadline {due}): {finding}",
    "category": "{category}: ",
    "pool": "{category}{count} valid marks; the highest ({high}) and lowest ({low}) dropped, "
    "mean {mean}{weight}",
    "pool.untrimmed": "{category}{count} valid marks, too few to drop the highest and lowest; "
    "mean {mean}{weight}",
    "pool.weight": " (category weight {weight})",
    "ballots": "{valid} valid ballots{spoiled}; mean after dropping the highest and lowest "
    "{mean}, satisfaction {satisfaction}",
    "ballots.untrimmed": "{valid} valid ballots{spoiled}; mean {mean}, satisfaction {satisfaction}",
    "ballots.insufficient": "{valid} valid ballots{spoiled}, fewer than the {minimum} required: "
    "no score on this source",
    "spoiled": " ({spoiled} spoiled)",
    "bonus": "{points} added: {reason}{evidence}",
    "penalty": "{points} deducted: {reason}{evidence}",
    "correction": "corrected on appeal ({subject}): was {was}, now {value}. Reason: {reason}",
    "evidence": " (evidence: {evidence})",
    "figure.timeliness": "{on_time} of {expected} due on time: timeliness {rate}",
    "figure.completeness": "{received} of {expected} due received: completeness {rate}",
    "figure.inspection": "{rounds} inspections, mean score {raw}",
    "figure.rectification": "{closed} of {found} problems rectified: {rate}",
    "figure.public-evaluation": "public evaluation score {raw}",
    "figure.public-evaluation.rate": "satisfaction rate {rate}",
    "figure.adjustments": "{items} bonuses and penalties, {raw} in all",
    "figure.adjustments.empty": "no bonus or penalty: 0.00",
    "figure.none": "no figure to compute",
    "figure.timeliness.none": "nothing was due in the period",
    "figure.completeness.none": "nothing was due in the period",
    "figure.inspection.none": "not inspected in the period",
    "figure.rectification.none": "no rectification item in the period",
    "figure.public-evaluation.none": "{valid} valid ballots: too few, no score on this source",
    "normalised.rate": "on 0–100: {raw} × 100 = {value}",
    "normalised.points": "on 0–100: {raw} ÷ {max} × 100 = {value}",
    "normalised.offset": "on 0–100: base {base} {sign} {amount} = {value} (0 to 100)",
    "normalised.best": "on 0–100: {raw} ÷ the group's best {best} × 100 = {value}",
    "filled.zero": "no figure: counted as 0",
    "filled.group-average": "no figure: counted at the group's average, {value}",
    "dropped": "no figure: not counted; the other sources' weights make up the whole",
    "weighted": "weight {weight} ({share}% of the total): {value} points",
    "weighted.dropped": "weight {weight}: not counted",
    "total": "total {value} (the sum of the points above)",
    "rank": "rank {rank} of {of} in {group}{decided}{ticket}",
    "decided.total": "",
    "decided.higher": "; same total as the unit above, the higher {source} goes first",
    "decided.lower": "; same total as the unit above, the lower {source} goes first",
    "decided.draw": "; same total as the unit above and no tie rule tells them apart: "
    "ordered by the draw",
    "ticket": " (draw ticket {ticket})",
    "flagged": "last in {group}: on the accountability list",
    "exempt": "last in {group}, exempt from accountability: {targets}",
    "target": "{source} reached {target}",
    "commended": "first in {group}: commended",
    "to-pass": "{value} more points would pass the unit above (rank {rank}, total {total})",
}

PHRASES: dict[str, dict[str, str]] = {"zh-CN": ZH, "en": EN}


@dataclass(frozen=True)
class Said:
    """One sheet line in words: the part of the score it belongs to (a source's title, or
    the whole), its sentence, and the line itself."""

    part: str
    text: str
    line: SheetLine

    def sentence(self, language: str) -> str:
        """The sentence under its part, as a unit reads it alone (报送及时率：…)."""
        return PHRASES[language]["source"].format(part=self.part, text=self.text)


@dataclass
class _Source:
    """What the lines before say about the source being worded."""

    source: ScoreSource | None
    raw: Decimal | None = None
    trimmed: bool = False
    dropped: bool = False


Worder = Callable[[SheetLine, _Source, EvaluationReport], tuple[str, Fields]]


def sheet_words(report: EvaluationReport, sheet: ScoreSheet) -> list[Said]:
    """Every line of ``sheet`` in ``report``'s language, in the sheet's order."""
    return list(_said(report, sheet.lines))


def group_title(report: EvaluationReport, group_id: str) -> str:
    """The group's title; without declared groups, "all units" in the language."""
    if not report.scoring.groups:
        return PHRASES[report.language]["all-units"]
    return report.group(group_id).title


def stage_words(report: EvaluationReport) -> str:
    """初步结果 or 最终结果: what a title says the evaluation is."""
    return PHRASES[report.language]["stage.final" if report.final else "stage.preliminary"]


def mark_words(report: EvaluationReport, placing: Placing) -> str:
    """红榜, 问责, 免于问责, or nothing: the placing's mark in a list."""
    for mark in ("commended", "flagged", "exempt"):
        if getattr(placing, mark):
            return PHRASES[report.language][f"mark.{mark}"]
    return ""


def decided_words(report: EvaluationReport, decided_by: str | None) -> str:
    """What put a unit below the one above, in a few words (总分, 督查考评较高, 抽签)."""
    if decided_by is None:
        return ""
    short = SHORT[report.language]
    if ":" not in decided_by:
        return short[decided_by]
    way, source_id = decided_by.split(":", 1)
    return short[way].format(source=_source_title(report, source_id))


SHORT: dict[str, dict[str, str]] = {
    "zh-CN": {"total": "总分", "higher": "{source}较高", "lower": "{source}较低", "draw": "抽签"},
    "en": {
        "total": "total",
        "higher": "higher {source}",
        "lower": "lower {source}",
        "draw": "draw",
    },
}


def _said(report: EvaluationReport, lines: tuple[SheetLine, ...]) -> Iterator[Said]:
    phrases = PHRASES[report.language]
    known = {s.id: s for s in report.sources}
    state = _Source(None)
    for line in lines:
        if line.source_id != (state.source.id if state.source else None):
            state = _Source(known.get(line.source_id))
        key, fields = WORDERS[line.what](line, state, report)
        part = (
            phrases["whole"] if line.source_id == WHOLE else _source_title(report, line.source_id)
        )
        yield Said(part, phrases[key].format(**fields), line)


def _source_title(report: EvaluationReport, source_id: str) -> str:
    return next((s.title for s in report.sources if s.id == source_id), source_id)


def plain(number: Decimal) -> str:
    """A number as a person writes it: 20, 27.5 (not 20.000, nor 2E+1)."""
    return format(number.normalize(), "f")


def points(number: Decimal | None) -> str:
    """A computed score, to 0.01 as it was rounded: 86.50, 9.70."""
    return "—" if number is None else f"{number:.2f}"


def percent(rate: str | Decimal | None) -> str:
    """A rate (a fraction to 0.0001) as a percentage to 0.01: 0.9130 → 91.30%."""
    if rate is None or rate == "":
        return "—"
    return f"{Decimal(rate) * 100:.2f}%"


def _facts(line: SheetLine) -> Mapping[str, str]:
    return dict(line.facts)


def _phrase(report: EvaluationReport, key: str, **fields: str) -> str:
    return PHRASES[report.language][key].format(**fields)


def _duty(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    deliverable, _space, period = line.subject.partition(" ")
    facts = _facts(line)
    return line.what, {
        "deliverable": report.deliverables.get(deliverable, deliverable),
        "period": _period(period, report.language),
        "due": facts.get("due", ""),
        "received": facts.get("received", ""),
    }


def _period(period: str, language: str) -> str:
    """A duty's period as its line says it: none for a one-off duty (``once``)."""
    if period in ("", "once"):
        return ""
    return f"（{period}）" if language == "zh-CN" else f" ({period})"


def _round_title(report: EvaluationReport, round_id: str) -> str:
    """``inspection/label`` as the inspection's title and the label (季度常规督查 2026-Q2)."""
    inspection, slash, label = round_id.partition("/")
    if not slash:
        return report.inspections.get(round_id, round_id)
    return f"{report.inspections.get(inspection, inspection)} {label}"


def _round(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    return "round", {
        "round": _round_title(report, line.subject),
        "score": points(line.value),
        "of": plain(Decimal(_facts(line).get("of", "100"))),
    }


def _deduction(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    round_id = _facts(line).get("round", "")
    item = line.subject.removeprefix(f"{round_id} ") if round_id else line.subject
    return "deduction", {
        "round": _round_title(report, round_id),
        "item": item,
        "points": plain(abs(line.value or Decimal(0))),
        "reason": line.reason,
    }


def _open_item(line: SheetLine, _: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    return "open-item", {
        "code": line.subject,
        "due": _facts(line).get("due", ""),
        "finding": line.reason,
    }


def _pool(line: SheetLine, state: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    separator = PHRASES[report.language]["separator"]
    high, low = facts.get("dropped_high", ""), facts.get("dropped_low", "")
    if high or low:
        state.trimmed = True
    weight = facts.get("weight")
    return "pool" if high or low else "pool.untrimmed", {
        "category": _phrase(report, "category", category=line.subject) if line.subject else "",
        "count": facts.get("count", "0"),
        "high": separator.join(plain(Decimal(v)) for v in high.split()),
        "low": separator.join(plain(Decimal(v)) for v in low.split()),
        "mean": points(line.value),
        "weight": "" if weight is None else _phrase(report, "pool.weight", weight=weight),
    }


def _ballots(line: SheetLine, state: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    spoiled = facts.get("spoiled", "0")
    if line.value is None:
        key = "ballots.insufficient"
    else:
        key = "ballots" if state.trimmed else "ballots.untrimmed"
    return key, {
        "valid": facts.get("valid", "0"),
        "spoiled": "" if spoiled == "0" else _phrase(report, "spoiled", spoiled=spoiled),
        "mean": points(line.value),
        "satisfaction": percent(facts.get("satisfaction")),
        "minimum": facts.get("minimum", ""),
    }


def _adjustment(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    evidence = _facts(line).get("evidence", "")
    return line.what, {
        "points": plain(abs(line.value or Decimal(0))),
        "reason": line.reason,
        "evidence": _phrase(report, "evidence", evidence=evidence) if evidence else "",
    }


def _correction(line: SheetLine, _: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    """An upheld appeal's change to the raw figure: the disputed line, before, after, why."""
    was = _facts(line).get("was", "")
    return line.what, {"subject": line.subject, "was": was or "—",
                       "value": "" if line.value is None else str(line.value),
                       "reason": line.reason}  # fmt: skip


def _figure(line: SheetLine, state: _Source, _: EvaluationReport) -> tuple[str, Fields]:
    state.raw = line.value
    facts = _facts(line)
    kind = state.source.kind if state.source is not None else ""
    fields = {**facts, "raw": points(line.value), "rate": percent(line.value)}
    if line.value is None:
        key = f"figure.{kind}.none"
        return (key if key in ZH else "figure.none"), fields
    if kind == "adjustments" and facts.get("items") == "0":
        return "figure.adjustments.empty", fields
    if state.source is not None and _by_rate(state.source):
        return "figure.public-evaluation.rate", fields
    return f"figure.{kind}", fields


def _by_rate(source: ScoreSource) -> bool:
    """A public evaluation whose figure is the satisfaction rate, not the trimmed mean."""
    return source.kind == "public-evaluation" and source.ballot_spec.figure == "satisfaction-rate"


def _normalised(line: SheetLine, state: _Source, _: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    raw = state.raw if state.raw is not None else Decimal(0)
    rule = facts.get("rule", "rate")
    fields = {
        "raw": str(raw),
        "value": points(line.value),
        "max": plain(Decimal(facts.get("max", "100"))),
        "base": plain(Decimal(facts.get("base", "100"))),
        "best": facts.get("best", ""),
        "sign": "−" if raw < 0 else "+",
        "amount": str(abs(raw)),
    }
    return f"normalised.{rule}", fields


def _filled(line: SheetLine, _: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    return f"filled.{_facts(line).get('policy', 'zero')}", {"value": points(line.value)}


def _dropped(_line: SheetLine, state: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    state.dropped = True
    return "dropped", {}


def _weighted(line: SheetLine, state: _Source, _: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    fields = {
        "weight": plain(Decimal(facts.get("weight", "0"))),
        "share": facts.get("share", ""),
        "value": points(line.value),
    }
    return ("weighted.dropped" if state.dropped else "weighted"), fields


def _total(line: SheetLine, _: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    return "total", {"value": points(line.value)}


def _rank(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    decided_by = facts.get("decided_by")
    decided = ""
    if decided_by is not None:
        way, _colon, source_id = decided_by.partition(":")
        source = _source_title(report, source_id) if source_id else ""
        decided = _phrase(report, f"decided.{way}", source=source)
    ticket = facts.get("ticket")
    return "rank", {
        "group": group_title(report, line.subject),
        "rank": str(int(line.value or 0)),
        "of": facts.get("of", ""),
        "decided": decided,
        "ticket": "" if ticket is None else _phrase(report, "ticket", ticket=ticket),
    }


def _group_line(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    return line.what, {"group": group_title(report, line.subject)}


def targets_words(report: EvaluationReport, targets: Facts) -> str:
    """The exemption's targets, each met (督查考评达到 95 分、民主评议达到 95 分)."""
    return PHRASES[report.language]["separator"].join(
        _phrase(report, "target", source=_source_title(report, k), target=plain(Decimal(v)))
        for k, v in targets
    )


def _exempt(line: SheetLine, _: _Source, report: EvaluationReport) -> tuple[str, Fields]:
    targets = targets_words(report, line.facts)
    return "exempt", {"group": group_title(report, line.subject), "targets": targets}


def _to_pass(line: SheetLine, _: _Source, __: EvaluationReport) -> tuple[str, Fields]:
    facts = _facts(line)
    return "to-pass", {
        "value": points(line.value),
        "rank": facts.get("above_rank", ""),
        "total": facts.get("above_total", ""),
    }


WORDERS: dict[str, Worder] = {
    "late": _duty,
    "missing": _duty,
    "round": _round,
    "deduction": _deduction,
    "open-item": _open_item,
    "pool": _pool,
    "ballots": _ballots,
    "bonus": _adjustment,
    "penalty": _adjustment,
    "correction": _correction,
    "figure": _figure,
    "normalised": _normalised,
    "filled": _filled,
    "dropped": _dropped,
    "weighted": _weighted,
    "total": _total,
    "rank": _rank,
    "flagged": _group_line,
    "exempt": _exempt,
    "commended": _group_line,
    "to-pass": _to_pass,
}
KINDS = frozenset(WORDERS)
"""Every ``SheetLine.what`` worded here: the evidence kinds of ``figures`` and the lines
``explain`` adds."""
