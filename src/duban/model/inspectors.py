"""The register of inspectors (检查人员名录): who may be drawn into an inspection team.

Kept by the coordinator as a CSV or XLSX file beside the roster and read the same way (see
``tabular``). Headers may be English (``id, name, unit, tags, conflicts, emails``) or Chinese
(编号, 姓名, 所在单位, 标签, 回避单位, 联系邮箱). An inspector's own unit and the units they
declared a conflict with (回避) are written as a unit id or a unit name of the roster, several
separated by ``、``, ``,``, ``;`` or spaces; an empty unit means an inspector from no member unit
(the coordinating office's own staff). A unit that is not on the roster is refused rather than
kept: a mistyped unit would silently let an inspector be drawn for their own unit.

An inspector is a plain frozen dataclass, because the draw (``duban.inspect``) hashes and
compares them and needs no validation machinery; this module does the checking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from duban.errors import InvalidInputError, Problem
from duban.model.campaign import Language
from duban.model.roster import Unit, is_email, split_list
from duban.model.tabular import (
    Header,
    Row,
    Say,
    read_rows,
    records,
    rows_of_each,
)


@dataclass(frozen=True)
class Inspector:
    """One person of the register; ``unit_id`` is None for one from no member unit."""

    id: str
    name: str
    unit_id: str | None = None
    tags: tuple[str, ...] = ()
    conflicts: frozenset[str] = frozenset()
    """Unit ids this inspector declared a conflict with (回避单位)."""
    emails: tuple[str, ...] = field(default=(), compare=False)
    """Where assignments are sent; not part of the register's hash (a corrected address does
    not change who may be drawn)."""


HEADER_ALIASES: dict[str, str] = {
    "id": "id", "编号": "id", "人员编号": "id", "检查人员编号": "id",
    "name": "name", "姓名": "name", "检查人员": "name",
    "unit": "unit", "所在单位": "unit", "单位": "unit", "工作单位": "unit",
    "tags": "tags", "标签": "tags", "类别": "tags",
    "conflicts": "conflicts", "回避单位": "conflicts", "回避": "conflicts",
    "emails": "emails", "email": "emails", "联系邮箱": "emails", "邮箱": "emails",
}  # fmt: skip
REQUIRED_HEADERS = ("id", "name")
CHINESE_HEADERS = {
    "id": "编号", "name": "姓名", "unit": "所在单位", "tags": "标签", "conflicts": "回避单位",
    "emails": "联系邮箱",
}  # fmt: skip
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NAME_LIMIT = 100
_LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

MESSAGES: dict[Language, dict[str, str]] = {
    "en": {
        "not-found": "inspector register not found",
        "file-type": "the inspector register must be a .csv or .xlsx file",
        "encoding": "not UTF-8 or GB18030 text (byte {byte}); save it again as CSV",
        "workbook": "not a readable .xlsx workbook; open it in Excel or WPS and save it as .xlsx",
        "empty": "the inspector register is empty",
        "missing": "missing column(s) {missing}; headers found: {found}; the header row must "
        "name id and name (or 编号 and 姓名)",
        "required": "empty; every inspector needs their {label}",
        "id": "not an inspector id; expected up to 64 letters, digits, _ . or -, starting with "
        "a letter or digit (found {value!r})",
        "name": "expected a name of at most 100 characters on one line (found {value!r})",
        "unit": "{value!r} is neither a unit id nor a unit name of the roster",
        "one-unit": "expected one unit, the inspector's own (found {value!r})",
        "email": "{value!r} is not an email address; expected addresses like name@example.cn "
        "separated by ; or ,",
        "duplicate-id": "inspector id {value!r} appears {times}",
    },
    "zh-CN": {
        "not-found": "找不到检查人员名录文件",
        "file-type": "检查人员名录须为 .csv 或 .xlsx 文件",
        "encoding": "不是 UTF-8 或 GB18030 编码的文本（第{byte}字节），请重新另存为 CSV",
        "workbook": "无法读取这个 .xlsx 工作簿，请用 Excel 或 WPS 打开后另存为 .xlsx",
        "empty": "检查人员名录中没有内容",
        "missing": "缺少{missing}列；找到的表头为：{found}。表头须包含编号、姓名（或 id、name）",
        "required": "“{label}”不能为空",
        "id": "编号“{value}”不符合要求：只能使用字母、数字和 _ . -，以字母或数字开头，"
        "不超过64个字符",
        "name": "姓名应写在一行内，不超过100个字（填写的是“{value}”）",
        "unit": "“{value}”不是名单中的单位编号或单位名称",
        "one-unit": "只能填写一个单位，即检查人员本人所在单位（填写的是“{value}”）",
        "email": "“{value}”不是有效的邮箱地址，应填写 name@example.cn 这样的地址，"
        "多个地址用；或，分隔",
        "duplicate-id": "编号“{value}”重复出现{times}",
    },
}


def load_inspectors(
    path: Path, roster: Sequence[Unit], language: Language = "en"
) -> list[Inspector]:
    """Read and check every row against the roster; raise ``InvalidInputError`` listing every
    problem at once (file, row, column as labelled, value found, what was expected)."""
    say = Say(path.name, language, MESSAGES)
    if not path.is_file():
        missing = say.problem(lambda _: str(path), lambda s: s("not-found"))
        raise InvalidInputError(str(path), [missing])
    rows = read_rows(path, say)
    problems: list[Problem] = []
    read = list(_parse_rows(rows, _UnitNames(roster), say, problems))
    for value, numbers in rows_of_each([(n, i.id) for n, i in read]).items():
        if len(numbers) > 1:
            problems.append(_used_twice(say, value, numbers))
    if problems:
        raise InvalidInputError(str(path), problems)
    return [inspector for _, inspector in read]


def _used_twice(say: Say, value: str, numbers: list[int]) -> Problem:
    def message(s: Say) -> str:
        return s("duplicate-id", value=value, times=s.times(len(numbers)))

    return say.problem(lambda s: s.rows(numbers), message)


@dataclass(frozen=True)
class _UnitNames:
    """A roster unit by its id or its name, as a coordinator may write either."""

    ids: dict[str, str]

    def __init__(self, roster: Sequence[Unit]) -> None:
        ids = {unit.name: unit.id for unit in roster} | {unit.id: unit.id for unit in roster}
        object.__setattr__(self, "ids", ids)


def _parse_rows(
    rows: list[Row], units: _UnitNames, say: Say, problems: list[Problem]
) -> Iterator[tuple[int, Inspector]]:
    found = records(rows, HEADER_ALIASES, REQUIRED_HEADERS, CHINESE_HEADERS, say, problems)
    if found is None:
        return
    header, below = found
    for number, cells in below:
        row = _Row(number, header, cells, say)
        inspector = row.inspector(units)
        problems.extend(row.problems)
        if inspector is not None:
            yield number, inspector


class _Row:
    """One row of the register being read: its cells, and the problems found in them."""

    def __init__(self, number: int, header: Header, cells: list[str], say: Say) -> None:
        self.number, self.header, self.cells, self.say = number, header, cells, say
        self.problems: list[Problem] = []

    def inspector(self, units: _UnitNames) -> Inspector | None:
        before = len(self.problems)
        identity, name = self._required("id"), self._required("name")
        if identity and not _ID.match(identity):
            self._refuse("id", "id", identity)
        if name and (len(name) > _NAME_LIMIT or _LINE_BREAKS.search(name)):
            self._refuse("name", "name", name)
        unit = self._units(units, "unit")
        if len(unit) > 1:
            self._refuse("unit", "one-unit", self.cell("unit"))
        conflicts = self._units(units, "conflicts")
        emails = split_list(self.cell("emails"))
        for address in emails:
            if not is_email(address):
                self._refuse("emails", "email", address)
        if len(self.problems) > before:
            return None
        tags = split_list(self.cell("tags"))
        own = unit[0] if unit else None
        return Inspector(identity, name, own, tags, frozenset(conflicts), emails)

    def cell(self, key: str) -> str:
        return self.header.cell(self.cells, key)

    def _required(self, key: str) -> str:
        value = self.cell(key)
        if not value:
            self._note(key, lambda s: s("required", label=self._label(key, s)))
        return value

    def _units(self, units: _UnitNames, key: str) -> list[str]:
        found: list[str] = []
        for written in split_list(self.cell(key)):
            unit_id = units.ids.get(written)
            if unit_id is None:
                self._refuse(key, "unit", written)
            else:
                found.append(unit_id)
        return found

    def _refuse(self, key: str, code: str, value: str) -> None:
        self._note(key, lambda s: s(code, value=value))

    def _note(self, key: str, message: Callable[[Say], str]) -> None:
        where = self.say.problem(lambda s: s.cell(self.number, self._label(key, s)), message)
        self.problems.append(where)

    def _label(self, key: str, say: Say) -> str:
        label = self.header.labels.get(key)
        if label is None:
            label = CHINESE_HEADERS[key] if say.language == "zh-CN" else key
        return label
