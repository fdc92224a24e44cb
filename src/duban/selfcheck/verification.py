"""A filled verification workbook (核验销号表) read into moves: pure, bytes and items in, the
closures and returns it asks for out, or every problem of the file at once.

The coordinator fixes the file in one pass and sends it again, so nothing is recorded while
any row is wrong (``VerdictsFileError`` lists them all, each with its sheet, row and cell). A
row with no verdict is not verified yet: skipped and counted. Each verdict carries a request
key made of the file's digest and the item's code, so the same file read twice (or by two
runs at once) moves each item once: a row whose key the item's history already holds is
*already recorded*, not a problem, although its item is no longer awaiting verification.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from duban.adapters.xlsx.layout import METADATA_SHEET
from duban.errors import Problem
from duban.model.validation import column_letter
from duban.selfcheck.importing import FileProblemsError, fields_of
from duban.selfcheck.items import Item
from duban.selfcheck.states import STATE_EN, STATE_ZH, Action, Move, State
from duban.selfcheck.texts import VERIFY_TEXTS

Grids = Mapping[str, Sequence[Sequence[Any]]]
HEADER_SEARCH_ROWS = 10
FIELDS = ("code", "verdict", "note", "reviewer")
_COLUMN_OF = {"code": 1, "verdict": 8, "note": 9, "reviewer": 10}
"""Each field's column in the workbook's ``columns`` (its label, in either language)."""
LABELS = {f: tuple(t.columns[i] for t in VERIFY_TEXTS.values()) for f, i in _COLUMN_OF.items()}
CLOSE_WORDS = frozenset(t.close for t in VERIFY_TEXTS.values())
RETURN_WORDS = frozenset(t.give_back for t in VERIFY_TEXTS.values())


@dataclass(frozen=True)
class SheetRow:
    """One row under the header: its number as the spreadsheet shows it, and what it says."""

    row: int
    code: str | None
    verdict: str | None
    note: str | None
    reviewer: str | None


@dataclass(frozen=True)
class VerdictSheet:
    """The sheet read, its rows, and each field's column (from 0) and header label."""

    sheet: str
    rows: tuple[SheetRow, ...]
    columns: Mapping[str, tuple[int, str]]


@dataclass(frozen=True)
class Planned:
    row: int
    code: str
    move: Move


@dataclass(frozen=True)
class VerdictPlan:
    """What the file asks, in its order; the items whose verdict from this very file was
    recorded before; and the rows left without a verdict."""

    moves: tuple[Planned, ...]
    already: tuple[str, ...]
    blank: int


class VerdictsFileError(FileProblemsError):
    """Every problem of the file; nothing was recorded."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(source, problems, command="rectify verdicts",
                         nothing=("nothing was recorded", "未记录任何核验结论"))  # fmt: skip


def request_key(sha256: str, code: str) -> str:
    """The key of one verdict of one file: the same file again asks the same thing."""
    return f"verdicts:{sha256[:16]}:{code}"


def read_sheet(grids: Grids, name: str) -> VerdictSheet:
    """The first sheet whose header (within its first rows) names the code and the verdict
    columns, with its rows; ``VerdictsFileError`` if no sheet has one."""
    for sheet, grid in grids.items():
        if sheet == METADATA_SHEET:
            continue
        for number, cells in enumerate(grid[:HEADER_SEARCH_ROWS], start=1):
            columns = fields_of(cells, LABELS)
            if "code" in columns and "verdict" in columns:
                rows = tuple(_rows(grid, number, columns))
                return VerdictSheet(sheet, rows, columns)
    code, verdict = LABELS["code"][0], LABELS["verdict"][0]
    raise VerdictsFileError(name, [Problem(
        name,
        f"no sheet has a header naming {code} and {verdict} (Item, Verdict) in its first "
        f"{HEADER_SEARCH_ROWS} rows: send the 核验销号表 duban wrote",
        zh=f"没有哪个工作表的前 {HEADER_SEARCH_ROWS} 行含有“{code}”和“{verdict}”表头，"
        "请使用系统生成的核验销号表",
    )])  # fmt: skip


def _rows(
    grid: Sequence[Sequence[Any]], header: int, columns: Mapping[str, tuple[int, str]]
) -> list[SheetRow]:
    rows = []
    for number, cells in enumerate(grid[header:], start=header + 1):
        said = {f: _text(cells, columns[f][0]) if f in columns else None for f in FIELDS}
        if any(said.values()):
            rows.append(SheetRow(number, said["code"], said["verdict"], said["note"],
                                 said["reviewer"]))  # fmt: skip
    return rows


def plan_verdicts(
    sheet: VerdictSheet,
    items: Mapping[str, Item],
    recorded: frozenset[str],
    *,
    sha256: str,
    actor: str,
    name: str,
) -> VerdictPlan:
    """The moves ``sheet`` asks for. ``items`` are the items its codes name, by upper-case
    code; ``recorded`` the codes whose verdict under this file's key is already in the
    ledger. Raises ``VerdictsFileError`` naming every bad row."""
    checker = _Checker(sheet, items, recorded, sha256, actor)
    for row in sheet.rows:
        checker.check(row)
    if checker.problems:
        raise VerdictsFileError(name, checker.problems)
    return VerdictPlan(tuple(checker.moves), tuple(checker.already), checker.blank)


class _Checker:
    def __init__(
        self,
        sheet: VerdictSheet,
        items: Mapping[str, Item],
        recorded: frozenset[str],
        sha256: str,
        actor: str,
    ) -> None:
        self.sheet, self.items, self.recorded = sheet, items, recorded
        self.sha256, self.actor = sha256, actor
        self.problems: list[Problem] = []
        self.moves: list[Planned] = []
        self.already: list[str] = []
        self.blank = 0
        self.seen: dict[str, int] = {}

    def check(self, row: SheetRow) -> None:
        if row.verdict is None:
            self.blank += 1
            return
        item = self._item(row)
        action = self._action(row)
        if item is None or action is None:
            return
        if item.code in self.recorded:
            self.already.append(item.code)
            return
        if item.state != State.CLAIMED:
            self._problem(row, "code", *_not_claimed(item))
            return
        move = self._move(row, item, action)
        if move is not None:
            self.moves.append(Planned(row.row, item.code, move))

    def _item(self, row: SheetRow) -> Item | None:
        if row.code is None:
            self._problem(row, "code", "empty: a verdict needs the item's code",
                          "为空：核验结论须对应整改编号")  # fmt: skip
            return None
        item = self.items.get(_key(row.code).upper())
        if item is None:
            self._problem(row, "code", f"no item {row.code!r} in this campaign",
                          f"本活动没有整改事项“{row.code}”")  # fmt: skip
            return None
        first = self.seen.setdefault(item.code, row.row)
        if first != row.row:
            self._problem(row, "code", f"{item.code} is already on row {first}",
                          f"{item.code}已在第 {first} 行出现")  # fmt: skip
            return None
        return item

    def _action(self, row: SheetRow) -> Action | None:
        word = _key(row.verdict)
        if word in {_key(w) for w in CLOSE_WORDS}:
            return Action.CLOSE
        if word in {_key(w) for w in RETURN_WORDS}:
            return Action.RETURN
        zh, en = VERIFY_TEXTS["zh-CN"], VERIFY_TEXTS["en"]
        self._problem(
            row, "verdict",
            f"{row.verdict!r} is not a verdict: choose {zh.close} ({en.close}) or "
            f"{zh.give_back} ({en.give_back})",
            f"“{row.verdict}”不是核验结论，请选择“{zh.close}”或“{zh.give_back}”",
        )  # fmt: skip
        return None

    def _move(self, row: SheetRow, item: Item, action: Action) -> Move | None:
        key = request_key(self.sha256, item.code)
        if action is Action.RETURN:
            if row.note is None:
                self._problem(row, "note", "empty: a return needs the reason the unit will see",
                              "为空：退回须写明理由（将告知责任单位）")  # fmt: skip
                return None
            return Move(Action.RETURN, self.actor, reason=row.note, request_key=key)
        if row.reviewer is not None and row.reviewer == self.actor.strip():
            self._problem(
                row, "reviewer",
                f"{row.reviewer!r} is the one closing: the second reviewer must be someone else",
                f"“{row.reviewer}”即销号人，复核人须为另一人",
            )  # fmt: skip
            return None
        return Move(Action.CLOSE, self.actor, note=row.note, reviewer=row.reviewer,
                    request_key=key)  # fmt: skip

    def _problem(self, row: SheetRow, field: str, message: str, zh: str) -> None:
        index, label = self.sheet.columns.get(field, (_COLUMN_OF[field], LABELS[field][0]))
        cell = f"{column_letter(index + 1)}{row.row}"
        name = self.sheet.sheet
        self.problems.append(Problem(
            f"sheet {name!r}, row {row.row}, cell {cell} ({label})", message, zh=zh,
            zh_where=f"工作表“{name}”第 {row.row} 行 {cell} 单元格（{label}）",
        ))  # fmt: skip


def _not_claimed(item: Item) -> tuple[str, str]:
    state = State(item.state)
    return (
        f"{item.code} is {STATE_EN[state]} now, not awaiting verification: leave its verdict "
        "empty, or write a new 核验销号表",
        f"{item.code}当前{STATE_ZH[state]}，不在待核验之列：请清空其核验结论，或重新生成核验销号表",
    )


def _text(cells: Sequence[Any], index: int) -> str | None:
    value = cells[index] if index < len(cells) else None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _key(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().casefold() if value else ""
