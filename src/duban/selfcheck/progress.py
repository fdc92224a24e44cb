"""Progress reports (整改进展) on rectification items, read without the ledger.

A deliverable with ``rectification_progress`` sends each unit its open items, pre-filled one
row each (``prefill_rows``; the code, finding, measure and deadline locked), and reads what
comes back against the unit's items as the ledger holds them (``read_report``). Both are pure:
the caller loads the items and applies what the reading asks (``selfcheck.reporting``).

A reply is judged row by row, and every finding names its row and cell, what was there and
what was expected, so the unit can fix it with its spreadsheet program alone and a coordinator
can act on the words. Two kinds:

* *refusals* reject the whole file (nothing is recorded; the unit sends it again): a code that
  is none of the unit's items, a code given twice, a completion claimed without its day or its
  evidence, a completion day before the item was recorded or after today, a new problem
  without its finding or deadline. Each would otherwise record something false or lose what
  the unit meant, and only the unit can say what it meant;
* *notes* go with the acknowledgement of an accepted file (the rest is recorded): an item whose
  row is missing (it stays as it was), a locked cell changed (the ledger keeps what it
  recorded), a row about an item already closed, cancelled or awaiting verification, a day or
  evidence given without claiming completion, a new problem where the campaign takes none.
  Each leaves the ledger as it was for that row and the rest of the report is good.

An unchanged row (the unit left an item as it was sent) asks for nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from duban.model.campaign import PROGRESS_LOCKED, Language, ProgressField, ProgressSpec
from duban.model.forms import Sheet
from duban.model.validation import column_letter
from duban.selfcheck.items import Item, NewItem
from duban.selfcheck.states import OPEN_STATES, STATE_EN, STATE_ZH, Action, Move, State

CellValue = str | int | float | date | None


def locked_keys(spec: ProgressSpec) -> set[str]:
    """The form columns a unit may not change in a pre-filled row."""
    return {key for name, key in spec.columns.items() if name in PROGRESS_LOCKED}


def prefill_rows(
    items: Sequence[Item], spec: ProgressSpec, sheet: Sheet
) -> list[dict[str, CellValue]]:
    """One row per item, in the order given: what the ledger says of it, and what the unit
    last reported (its progress; for a claimed item, the state, day and evidence of the
    claim), so that a row the unit leaves as it is asks for nothing."""
    ongoing = _ongoing_choice(spec, sheet)
    rows = []
    for item in items:
        state = State(item.state)
        claimed = state is State.CLAIMED
        values: dict[ProgressField, CellValue] = {
            "code": item.code,
            "finding": item.finding,
            "measure": item.measure,
            "due": item.deadline,
            "progress": item.progress,
            "state": spec.claimed if claimed else (ongoing if state is State.IN_PROGRESS else None),
            "completed_on": item.completed_on if claimed else None,
            "evidence": item.evidence if claimed else None,
        }
        rows.append(
            {spec.columns[name]: value for name, value in values.items() if name in spec.columns}
        )
    return rows


def _ongoing_choice(spec: ProgressSpec, sheet: Sheet) -> str | None:
    """The state column's first choice other than the claim (整改中): an item in progress."""
    key = spec.columns["state"]
    column = next(c for c in sheet.columns if c.key == key)
    return next((c for c in column.choices or () if c != spec.claimed), None)


@dataclass(frozen=True)
class Finding:
    """One thing to tell the unit about its report: where (row and cell, or only the item
    when its row is missing), what was found, and the wording's code and details."""

    code: str
    row: int | None = None
    cell: str | None = None
    item: str | None = None
    found: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, language: Language) -> str:
        texts = _ZH if language == "zh-CN" else _EN
        text = texts[self.code].format(item=self.item, row=self.row, **self.detail)
        if self.found == "":
            text += "（该格已被清空）" if language == "zh-CN" else " (the cell was emptied)"
        elif self.found is not None:
            shown = self.found if len(self.found) <= 40 else self.found[:40] + "…"
            text += ("（填写的是“{}”）" if language == "zh-CN" else " (found “{}”)").format(shown)
        if self.cell is None:
            return text
        return f"{self.detail.get('sheet', '')}!{self.cell}: {text}"

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "row": self.row,
            "cell": self.cell,
            "item": self.item,
            "found": self.found,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Finding:
        return cls(
            value["code"],
            value.get("row"),
            value.get("cell"),
            value.get("item"),
            value.get("found"),
            dict(value.get("detail") or {}),
        )


@dataclass(frozen=True)
class RowMove:
    """A row asking to move its item (progress reported, completion claimed)."""

    row: int
    code: str
    move: Move


@dataclass(frozen=True)
class NewRow:
    """A row without a code: a problem found since, to be recorded as a new item; its
    progress (if any) is reported on it once it is recorded."""

    row: int
    item: NewItem
    progress: str | None
    claimed: bool


@dataclass(frozen=True)
class Reading:
    """What a report means: refusals (the file is rejected), notes (told with the
    acknowledgement), and, when nothing is refused, the moves and new items it asks for."""

    refusals: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    moves: list[RowMove] = field(default_factory=list)
    new: list[NewRow] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """A report's rows as validated (column key to value, dates as ISO text), the sheet row
    number of each, and whose it is."""

    rows: Sequence[Mapping[str, Any]]
    numbers: Sequence[int]
    unit_id: str
    origin: str
    """Names the file (``intake-file:42``): each move's request key and each new item's
    origin key start with it, so the same file read again moves and records nothing twice."""


def read_report(
    report: Report,
    items: Sequence[Item],
    spec: ProgressSpec,
    sheet: Sheet,
    *,
    today: date,
    zone: ZoneInfo,
) -> Reading:
    """Match the report's rows to the unit's ``items`` (all of them, any state) by code; see
    the module docstring for what is refused and what is noted."""
    reader = _Reader(spec, sheet, {i.code.upper(): i for i in items}, today, zone, report)
    for row, number in zip(report.rows, report.numbers, strict=True):
        reader.row(number, row)
    seen = set(reader.first_row)
    for item in items:
        if State(item.state) in OPEN_STATES and item.code.upper() not in seen:
            reader.notes.append(
                Finding(
                    "missing",
                    item=item.code,
                    detail={"finding": _short(item.finding), "state": _state_words(item.state)},
                )
            )
    if reader.refusals:
        return Reading(refusals=reader.refusals, notes=reader.notes)
    return Reading([], reader.notes, reader.moves, reader.new)


class _Reader:
    """The state of one reading: rows seen so far, and what they ask."""

    def __init__(
        self,
        spec: ProgressSpec,
        sheet: Sheet,
        items: dict[str, Item],
        today: date,
        zone: ZoneInfo,
        report: Report,
    ) -> None:
        self.spec, self.sheet, self.items = spec, sheet, items
        self.today, self.zone, self.report = today, zone, report
        self.letters = {c.key: column_letter(i + 1) for i, c in enumerate(sheet.columns)}
        self.labels = {c.key: c.label for c in sheet.columns}
        self.first_row: dict[str, int] = {}
        self.refusals: list[Finding] = []
        self.notes: list[Finding] = []
        self.moves: list[RowMove] = []
        self.new: list[NewRow] = []

    def value(self, row: Mapping[str, Any], name: ProgressField) -> str | None:
        key = self.spec.columns.get(name)
        if key is None or row.get(key) is None:
            return None
        text = str(row[key]).strip()
        return text or None

    def finding(self, code: str, number: int, name: ProgressField, **detail: Any) -> Finding:
        key = self.spec.columns[name]
        found = detail.pop("found", None)
        return Finding(
            code,
            number,
            f"{self.letters[key]}{number}",
            detail.pop("item", None),
            found,
            {"sheet": self.sheet.name, "label": self.labels[key], **detail},
        )

    def row(self, number: int, row: Mapping[str, Any]) -> None:
        raw = self.value(row, "code")
        if raw is None:
            self.new_row(number, row)
            return
        code = unicodedata.normalize("NFKC", raw).strip().upper()
        if code in self.first_row:
            self.refusals.append(
                self.finding("duplicate", number, "code", item=code, first=self.first_row[code])
            )
            return
        self.first_row[code] = number
        item = self.items.get(code)
        if item is None:
            self.refusals.append(
                self.finding("unknown", number, "code", found=raw, unit=self.report.unit_id)
            )
            return
        self.locked_cells(number, row, item)
        self.report_on(number, row, item)

    def locked_cells(self, number: int, row: Mapping[str, Any], item: Item) -> None:
        """A changed finding, measure or deadline: noted, the ledger keeps its own."""
        recorded: dict[ProgressField, str | None] = {
            "finding": item.finding,
            "measure": item.measure,
            "due": item.deadline.isoformat() if item.deadline else None,
        }
        for name, expected in recorded.items():
            if name not in self.spec.columns:
                continue
            found = self.value(row, name)
            if _plain(found) != _plain(expected):
                self.notes.append(
                    self.finding(
                        "locked",
                        number,
                        name,
                        item=item.code,
                        found=found or "",
                        expected=_short(expected or ""),
                    )
                )

    def report_on(self, number: int, row: Mapping[str, Any], item: Item) -> None:
        state = State(item.state)
        says = self.value(row, "state")
        claims = says == self.spec.claimed
        progress = self.value(row, "progress")
        evidence, done = self.value(row, "evidence"), self.value(row, "completed_on")
        if state not in OPEN_STATES:
            self.notes.append(
                self.finding(
                    "final", number, "code", item=item.code, state=_state_words(item.state)
                )
            )
            return
        if state is State.CLAIMED:
            unchanged = (
                claims
                and _plain(evidence) == _plain(item.evidence)
                and (done == (item.completed_on.isoformat() if item.completed_on else None))
                and _plain(progress) == _plain(item.progress)
            )
            if not unchanged:
                self.notes.append(self.finding("awaiting", number, "state", item=item.code))
            return
        if claims:
            self.claim(number, item, progress, evidence, done)
            return
        if evidence is not None or done is not None:
            self.notes.append(
                self.finding(
                    "not-claimed",
                    number,
                    "state",
                    item=item.code,
                    claimed=self.spec.claimed,
                    found=says,
                )
            )
        reported = progress is not None and _plain(progress) != _plain(item.progress)
        if reported or (says is not None and state is State.OPEN):
            self.moves.append(
                RowMove(number, item.code, self.move(Action.PROGRESS, item.code, note=progress))
            )

    def claim(
        self, number: int, item: Item, progress: str | None, evidence: str | None, done: str | None
    ) -> None:
        before = len(self.refusals)
        claimed = self.spec.claimed
        if evidence is None and "evidence" in self.spec.columns:
            self.refusals.append(
                self.finding("evidence", number, "evidence", item=item.code, claimed=claimed)
            )
        if "completed_on" in self.spec.columns:
            if done is None:
                self.refusals.append(
                    self.finding("day", number, "completed_on", item=item.code, claimed=claimed)
                )
            else:
                self.check_day(number, item, date.fromisoformat(done))
        if len(self.refusals) == before:
            day = date.fromisoformat(done) if done else None
            move = self.move(
                Action.CLAIM, item.code, note=progress, evidence=evidence, completed_on=day
            )
            self.moves.append(RowMove(number, item.code, move))

    def check_day(self, number: int, item: Item, done: date) -> None:
        recorded = item.created_at.astimezone(self.zone).date()
        if done < recorded:
            self.refusals.append(
                self.finding(
                    "before",
                    number,
                    "completed_on",
                    item=item.code,
                    found=done.isoformat(),
                    recorded=recorded.isoformat(),
                )
            )
        elif done > self.today:
            self.refusals.append(
                self.finding(
                    "future",
                    number,
                    "completed_on",
                    item=item.code,
                    found=done.isoformat(),
                    today=self.today.isoformat(),
                )
            )

    def move(self, action: Action, code: str, **given: Any) -> Move:
        return Move(
            action,
            actor=f"unit:{self.report.unit_id}",
            role="unit",
            request_key=f"{self.report.origin}:{code}",
            **given,
        )

    def new_row(self, number: int, row: Mapping[str, Any]) -> None:
        if not self.spec.new_items:
            self.notes.append(self.finding("no-new", number, "code"))
            return
        finding, due = self.value(row, "finding"), self.value(row, "due")
        if finding is None:
            self.refusals.append(self.finding("new-needs", number, "finding"))
        if due is None:
            self.refusals.append(self.finding("new-needs", number, "due"))
        if finding is None or due is None:
            return
        item = NewItem(
            unit_id=self.report.unit_id,
            finding=finding,
            source=self.spec.source,
            measure=self.value(row, "measure"),
            deadline=date.fromisoformat(due),
            origin_key=f"{self.report.origin}:row:{number}",
        )
        claims = self.value(row, "state") == self.spec.claimed
        if claims:
            self.notes.append(
                self.finding("new-claimed", number, "state", claimed=self.spec.claimed)
            )
        self.new.append(NewRow(number, item, self.value(row, "progress"), claims))


def _plain(text: str | None) -> str:
    """Text compared as a reader sees it: width forms and spaces aside."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def _state_words(state: str) -> dict[str, str]:
    return {"zh": STATE_ZH[State(state)], "en": STATE_EN[State(state)]}


_ZH = {
    "duplicate": "问题编号 {item} 已在第 {first} 行填报，同一问题只能填一行；请删除重复的一行，"
    "或合并为一行后重新报送",
    "unknown": "“{label}”不是本单位（{unit}）的整改问题编号；请保留下发模板中预填的编号，"
    "不要修改；新发现的问题请另起一行，编号留空",
    "evidence": "{item} 的整改状态为“{claimed}”（申请销号），须填写“{label}”：做了什么、"
    "有哪些佐证材料",
    "day": "{item} 的整改状态为“{claimed}”（申请销号），须填写“{label}”，如 2026-09-30",
    "before": "{item} 的“{label}”不能早于该问题登记的日期 {recorded}",
    "future": "{item} 的“{label}”不能晚于今天（{today}）",
    "new-needs": "第 {row} 行没有问题编号，将作为新发现的问题登记，须填写“{label}”",
    "missing": "{item}（{finding}）未在表中填报（该行被删除），仍为“{state[zh]}”，"
    "本次未作变更；请在下次报送时保留该行并填报进展",
    "locked": "{item} 的“{label}”是台账登记的内容，不能在本表中修改，台账仍为“{expected}”；"
    "如需调整（如延长整改时限），请与牵头部门联系",
    "final": "{item} 当前为“{state[zh]}”，已办结，本行未作处理",
    "awaiting": "{item} 已申请销号，正待牵头部门核验，本行的修改未予登记；如核验未通过，"
    "牵头部门会退回并说明理由",
    "not-claimed": "{item} 填写了完成时间或佐证材料，但“{label}”不是“{claimed}”，未作销号申请，"
    "仅登记了进展；如已完成，请将“{label}”选为“{claimed}”后重新报送",
    "no-new": "第 {row} 行没有问题编号；本表只填报已登记问题的进展，本行未作登记，"
    "新发现的问题请报牵头部门",
    "new": "第 {row} 行作为新发现的问题登记为 {item}",
    "new-claimed": "第 {row} 行是新登记的问题，本次只登记其进展；如已完成整改，请在下次报送时"
    "将“{label}”选为“{claimed}”申请销号",
    "moved": "{item}（第 {row} 行）：已登记为“{state_zh}”",
    "not-moved": "{item}（第 {row} 行）未能登记：{reason_zh}",
}
_EN = {
    "duplicate": "item {item} is already reported in row {first}; report each item in one row "
    "only: delete the repeated row, or merge the two, and send the report again",
    "unknown": "“{label}” is not an item code of your unit ({unit}); keep the codes the "
    "template came with; report a problem found since in a row of its own, without a code",
    "evidence": "{item} says “{claimed}” (completion claimed): “{label}” is required (what was "
    "done, and what proves it)",
    "day": "{item} says “{claimed}” (completion claimed): “{label}” is required, such as "
    "2026-09-30",
    "before": "“{label}” of {item} cannot be before the day it was recorded, {recorded}",
    "future": "“{label}” of {item} cannot be after today ({today})",
    "new-needs": "row {row} has no item code, so it is recorded as a problem found since: "
    "“{label}” is required",
    "missing": "{item} ({finding}) is not in the report (its row was deleted): it stays "
    "{state[en]}, unchanged; keep its row and report its progress next time",
    "locked": "“{label}” of {item} is what the ledger recorded and cannot be changed here; the "
    "ledger keeps “{expected}”; to change it (such as a later deadline) ask the coordinating "
    "office",
    "final": "{item} is {state[en]}: this row was not recorded",
    "awaiting": "{item} is claimed complete and awaits the coordinating office's verification: "
    "the changes in this row were not recorded; if it is not verified, it is returned with "
    "the reason",
    "not-claimed": "{item} gives a completion day or evidence, but “{label}” is not "
    "“{claimed}”: no completion was claimed, only its progress recorded; if it is complete, "
    "choose “{claimed}” and send the report again",
    "no-new": "row {row} has no item code; this report is for the recorded items only, so the "
    "row was not recorded: report a problem found since to the coordinating office",
    "new": "row {row} was recorded as a new item, {item}",
    "new-claimed": "row {row} is a new item: only its progress was recorded; if it is complete, "
    "choose “{claimed}” as its “{label}” in the next report to claim it",
    "moved": "{item} (row {row}): recorded as {state_en}",
    "not-moved": "{item} (row {row}) could not be recorded: {reason_en}",
}
