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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from duban.errors import InvalidInputError
from duban.model.campaign import Language
from duban.model.register_rows import RegisterRow, UnitNames, read_people, used_twice
from duban.model.roster import Unit, split_list
from duban.model.tabular import Say, rows_of_each


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
    units = UnitNames(roster)
    read, problems = read_people(
        path, say, HEADER_ALIASES, REQUIRED_HEADERS, CHINESE_HEADERS, lambda r: _inspector(r, units)
    )
    for value, numbers in rows_of_each([(n, i.id) for n, i in read]).items():
        if len(numbers) > 1:
            problems.append(used_twice(say, "duplicate-id", value, numbers))
    if problems:
        raise InvalidInputError(str(path), problems)
    return [inspector for _, inspector in read]


def _inspector(row: RegisterRow, units: UnitNames) -> Inspector | None:
    identity, name = row.person()
    unit = row.units(units, "unit")
    if len(unit) > 1:
        row.refuse("unit", "one-unit", row.cell("unit"))
    conflicts = row.units(units, "conflicts")
    emails = row.emails("emails")
    if row.problems:
        return None
    tags = split_list(row.cell("tags"))
    own = unit[0] if unit else None
    return Inspector(identity, name, own, tags, frozenset(conflicts), emails)
