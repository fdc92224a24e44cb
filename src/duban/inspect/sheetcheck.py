"""A returned scoresheet read against its checklist: every item scored, from 0 to the item's
maximum, a deduction with its reason, each finding with its words; every problem named by
sheet and cell, in Chinese and English, because the inspector fixes the sheet in one pass.

Pure: the cells in (as intake read them), the scores, findings and problems out. The cell
rules a column can carry (a number, at least 0, required) are the form's and checked by
``validate_workbook``; what differs row by row (each item's maximum) and what spans cells (a
deduction needs a reason) is checked here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from duban.model.forms import Form
from duban.model.inspections import Checklist
from duban.model.scoresheets import FINDING_KEYS, SCORE_KEYS
from duban.model.validation import (
    CellProblem,
    Grid,
    Position,
    column_letter,
    filled_row_numbers,
    validate_workbook,
)


@dataclass(frozen=True)
class ItemScore:
    item: str
    points: Decimal
    score: Decimal
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {"item": self.item, "points": str(self.points), "score": str(self.score),
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class FindingRow:
    """One finding as written: its row on the sheet, words, suggested measure and deadline."""

    row: int
    finding: str
    measure: str | None
    due: date | None


@dataclass(frozen=True)
class SheetReading:
    scores: tuple[ItemScore, ...]
    findings: tuple[FindingRow, ...]
    problems: tuple[CellProblem, ...]

    @property
    def total(self) -> Decimal:
        return sum((s.score for s in self.scores), Decimal(0))


def read_scoresheet(
    checklist: Checklist,
    form: Form,
    sheets: Mapping[str, Grid],
    *,
    version: str | None,
    uncomputed: Mapping[str, Collection[Position]] | None = None,
    accepted_on: date,
) -> SheetReading:
    """The sheet's scores and findings, or every problem found (then both are incomplete)."""
    checked = validate_workbook(form, sheets, version, uncomputed)
    problems = list(checked.problems)
    formulas = uncomputed or {}
    numbers = {
        sheet.name: filled_row_numbers(sheet, sheets[sheet.name], formulas.get(sheet.name, ()))
        for sheet in form.sheets
        if sheet.name in sheets
    }
    scores_sheet, findings_sheet = form.sheets[0].name, form.sheets[1].name
    scores = _scores(checklist, scores_sheet, checked.rows.get(scores_sheet, []),
                     numbers.get(scores_sheet, []), problems)  # fmt: skip
    findings = _findings(findings_sheet, checked.rows.get(findings_sheet, []),
                         numbers.get(findings_sheet, []), accepted_on, problems)  # fmt: skip
    return SheetReading(tuple(scores), tuple(findings), tuple(problems))


def _problem(sheet: str, key: str, keys: Sequence[str], row: int, zh: str, en: str) -> CellProblem:
    cell = f"{column_letter(keys.index(key) + 1)}{row}"
    return CellProblem(sheet, cell, "progress", None, {"zh": zh, "en": en})


def _scores(
    checklist: Checklist,
    sheet: str,
    rows: Sequence[Mapping[str, Any]],
    numbers: Sequence[int],
    problems: list[CellProblem],
) -> list[ItemScore]:
    scores = []
    for item, row, number in zip(checklist.items, rows, numbers, strict=False):
        if str(row.get("item") or "") != item.id:
            problems.append(_problem(
                sheet, "item", SCORE_KEYS, number,
                f"项目编号应为“{item.id}”，请勿修改预填的督查项目",
                f"the item should read “{item.id}”; do not change the pre-filled items",
            ))  # fmt: skip
            continue
        if row.get("score") is None:
            continue  # empty or not a number: named by the form's rules
        score = Decimal(str(row["score"]))
        reason = _text(row.get("reason"))
        if score > item.points:
            problems.append(_over(sheet, number, score, item.points))
        elif score < item.points and reason is None:
            problems.append(_no_reason(sheet, number, item.points - score))
        scores.append(ItemScore(item.id, item.points, score, reason))
    return scores


def _over(sheet: str, number: int, score: Decimal, points: Decimal) -> CellProblem:
    most = plain_number(points)
    return _problem(
        sheet, "score", SCORE_KEYS, number,
        f"得分 {plain_number(score)} 超过该项分值，应为 0 至 {most} 分",
        f"the score {plain_number(score)} is above the item's maximum: expected 0 to {most}",
    )  # fmt: skip


def _no_reason(sheet: str, number: int, deducted: Decimal) -> CellProblem:
    lost = plain_number(deducted)
    return _problem(
        sheet, "reason", SCORE_KEYS, number,
        f"为空：扣 {lost} 分须写明扣分理由",
        f"empty: a deduction of {lost} needs its reason",
    )  # fmt: skip


def _findings(
    sheet: str,
    rows: Sequence[Mapping[str, Any]],
    numbers: Sequence[int],
    accepted_on: date,
    problems: list[CellProblem],
) -> list[FindingRow]:
    found = []
    for row, number in zip(rows, numbers, strict=False):
        finding = _text(row.get("finding"))
        due = date.fromisoformat(row["due"]) if row.get("due") else None
        if finding is None:
            problems.append(_problem(
                sheet, "finding", FINDING_KEYS, number,
                "为空：这一行填写了整改建议或时限，须写明发现的问题",
                "empty: this row has a measure or a deadline, so it needs its finding",
            ))  # fmt: skip
            continue
        if due is not None and due < accepted_on:
            problems.append(_problem(
                sheet, "due", FINDING_KEYS, number,
                f"整改时限 {due.isoformat()} 早于评分表受理日 {accepted_on.isoformat()}",
                f"the deadline {due.isoformat()} is before the day the sheet is accepted "
                f"({accepted_on.isoformat()})",
            ))  # fmt: skip
        found.append(FindingRow(number, finding, _text(row.get("measure")), due))
    return found


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def plain_number(number: Decimal) -> str:
    """A number as a person writes it: 20, 27.5 (not 20.000)."""
    return format(number.normalize(), "f")
