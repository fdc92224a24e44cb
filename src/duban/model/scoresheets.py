"""The scoresheet an inspection team fills for one unit (督查评分表), as a form.

A checklist is declared once (items, maximum points, guidance); the workbook inspectors fill is
derived from it here as an ordinary ``Form``, so the same template builder, token, pre-fill and
cell validation serve it as they serve units' forms. Its first sheet lists the checklist's
items, one row each, pre-filled and locked (item, what is checked, maximum, guidance); the team
writes the score and, for any points deducted, the reason. Its second sheet lists findings
(发现问题): each becomes a rectification item of the inspected unit, due on the deadline the team
suggests or, left empty, the inspection's ``findings_due`` working days later.

A score above an item's maximum cannot be a column rule (the maximum differs by row): intake
checks it row by row against the checklist, naming the cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.model.campaign import Language
from duban.model.forms import Column, Form, Sheet
from duban.model.inspections import Checklist

SCORE_KEYS = ("item", "title", "points", "guidance", "score", "reason")
PREFILLED_KEYS = ("item", "title", "points", "guidance")
"""The columns written from the checklist and locked: the team may not change them."""
FINDING_KEYS = ("finding", "measure", "due")


@dataclass(frozen=True)
class ScoresheetWords:
    scores_sheet: str
    scores_title: str
    findings_sheet: str
    findings_title: str
    score_labels: tuple[str, ...]
    finding_labels: tuple[str, ...]
    form_title: str  # "{checklist}"


ZH = ScoresheetWords(
    scores_sheet="评分",
    scores_title="督查评分（逐项打分，扣分须写明理由）",
    findings_sheet="发现问题",
    findings_title="督查发现问题（逐条填写，将列入被督查单位整改台账）",
    score_labels=("项目编号", "督查项目", "分值", "评分标准", "得分", "扣分理由"),
    finding_labels=("问题描述", "整改建议", "整改时限"),
    form_title="{checklist}",
)
EN = ScoresheetWords(
    scores_sheet="Scores",
    scores_title="Scores (one per item; give the reason for any deduction)",
    findings_sheet="Findings",
    findings_title="Findings (one per row; each becomes a rectification item of the unit)",
    score_labels=("Item", "What is checked", "Maximum", "Guidance", "Score", "Reason"),
    finding_labels=("Finding", "Suggested measure", "Deadline"),
    form_title="{checklist}",
)
WORDS: dict[Language, ScoresheetWords] = {"zh-CN": ZH, "en": EN}


def scoresheet_form(checklist: Checklist, language: Language, version: int = 1) -> Form:
    """The checklist as a two-sheet form: scores (one row per item) and findings."""
    words = WORDS[language]
    widths = (12, 24, 8, 40, 8, 36)
    scores = [
        Column(key=key, label=label, width=width, **_score_rule(key))
        for key, label, width in zip(SCORE_KEYS, words.score_labels, widths, strict=True)
    ]
    findings = [
        Column(key="finding", label=words.finding_labels[0], max_length=1000, width=48),
        Column(key="measure", label=words.finding_labels[1], max_length=1000, width=40),
        Column(key="due", label=words.finding_labels[2], type="date", width=12),
    ]
    n = len(checklist.items)
    return Form(
        id=f"scoresheet-{checklist.id}"[:63],
        title=words.form_title.format(checklist=checklist.title),
        version=version,
        sheets=[
            Sheet(
                name=words.scores_sheet,
                title=words.scores_title,
                columns=scores,
                min_rows=n,
                max_rows=n,
            ),
            Sheet(
                name=words.findings_sheet,
                title=words.findings_title,
                columns=findings,
                max_rows=200,
            ),
        ],
    )


def _score_rule(key: str) -> dict[str, object]:
    if key == "points":
        return {"type": "decimal"}
    if key == "score":
        return {"type": "decimal", "min": 0, "required": True}
    if key in ("title", "guidance", "reason"):
        return {"max_length": 1000}
    return {}


def prefill_rows(checklist: Checklist) -> list[dict[str, str | float]]:
    """The scores sheet's pre-filled rows: one per checklist item, in the declared order."""
    return [
        {
            "item": item.id,
            "title": item.title,
            "points": float(item.points),
            "guidance": item.guidance or "",
        }
        for item in checklist.items
    ]
