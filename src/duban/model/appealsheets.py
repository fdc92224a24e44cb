"""The appeal form a unit returns against its preliminary evaluation (复核申请表), as a form.

A published evaluation sends each unit its score sheet (得分说明) in words, its lines numbered
1, 2, 3 …; the unit that disputes a line says why on this form. It is derived here as an
ordinary ``Form``, as the ballot is, so the same template builder, token, pre-fill and cell
validation serve it. Its one sheet lists the unit's score-sheet lines, one row each: the
line's number, the part of the score it belongs to and what it says, pre-filled and locked;
the unit writes its reasons (复核理由) next to each line it disputes and leaves the others
empty. Each row with reasons becomes one appeal against that line.

The lines differ by unit (a unit with more late duties has more), so the form is made for a
number of rows; every form of that length shares one master.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from duban.model.campaign import Language
from duban.model.forms import Column, Form, Sheet

APPEAL_KEYS = ("number", "part", "said", "reasons")
PREFILLED_KEYS = ("number", "part", "said")
"""The columns written from the score sheet and locked: the unit may not change them."""
REASONS_LIMIT = 2000


@dataclass(frozen=True)
class AppealWords:
    sheet: str
    title: str
    labels: tuple[str, ...]
    form_title: str


ZH = AppealWords(
    sheet="复核申请表",
    title="复核申请表（对有异议的得分说明，在该行“复核理由”栏写明理由；无异议的行请留空）",
    labels=("序号", "考核项目", "得分说明", "复核理由"),
    form_title="考核结果复核申请表",
)
EN = AppealWords(
    sheet="Appeal",
    title="Appeal (write your reasons next to each line you dispute; leave the others empty)",
    labels=("Line", "Part", "What the score sheet says", "Reasons"),
    form_title="Appeal against the evaluation",
)
WORDS: dict[Language, AppealWords] = {"zh-CN": ZH, "en": EN}


def appeal_form(rows: int, language: Language, version: int = 1) -> Form:
    """The appeal form listing ``rows`` score-sheet lines, on one sheet."""
    words = WORDS[language]
    keys_labels = dict(zip(APPEAL_KEYS, words.labels, strict=True))
    columns = [
        Column(key="number", label=keys_labels["number"], type="integer", width=6),
        Column(key="part", label=keys_labels["part"], width=14),
        Column(key="said", label=keys_labels["said"], width=60),
        Column(key="reasons", label=keys_labels["reasons"], max_length=REASONS_LIMIT, width=60),
    ]
    return Form(
        id="appeal",
        title=words.form_title,
        version=version,
        sheets=[
            Sheet(
                name=words.sheet,
                title=words.title,
                columns=columns,
                min_rows=rows,
                max_rows=max(rows, 1),
            )
        ],
    )


def prefill_rows(lines: Sequence[tuple[str, str]]) -> list[dict[str, str | float]]:
    """The form's pre-filled rows: one per score-sheet line (its part and what it says),
    numbered from 1 as the score-sheet workbook numbers them."""
    return [
        {"number": n, "part": part, "said": said} for n, (part, said) in enumerate(lines, start=1)
    ]
