"""The roster: every member unit, read from the CSV or XLSX file a coordinator keeps.

Headers may be English (``id, name, tags, emails, head_email, supervisor_email``) or the
Chinese a coordinator would type (单位编号, 单位名称, 标签, 联系邮箱, 负责人邮箱, 分管领导邮箱);
spaces, a ``*`` marking a required column and a note in brackets (``联系邮箱（多个用；分隔）``)
are ignored. The header row is found by its labels among the first rows, so a title row above
it (``某某县参加单位名单``, often merged across the columns) and blank rows are allowed.
Lists (tags, emails) are separated by ``;``, ``；``, ``,``, ``，`` or ``、``. CSV files saved by
Excel or WPS on a Chinese Windows are GB18030 (or GBK), not UTF-8, with or without a byte order
mark: all are read.

Problems name the file, the row as the spreadsheet program numbers it, the column as labelled
in the file, the value found and what was expected, in English or Chinese (``language``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, ValidationError
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

from duban.errors import InvalidInputError, Problem
from duban.model.campaign import Language
from duban.model.forms import Strict
from duban.model.tabular import (
    Header,
    Row,
    Say,
    read_rows,
    records,
    rows_of_each,
)

UnitId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]

HEADER_ALIASES: dict[str, str] = {
    "id": "id", "单位编号": "id", "编号": "id",
    "name": "name", "单位名称": "name", "单位": "name",
    "tags": "tags", "标签": "tags", "类别": "tags",
    "emails": "emails", "email": "emails", "联系邮箱": "emails", "邮箱": "emails",
    "head_email": "head_email", "负责人邮箱": "head_email", "主要负责人邮箱": "head_email",
    "supervisor_email": "supervisor_email", "分管领导邮箱": "supervisor_email",
}  # fmt: skip
REQUIRED_HEADERS = ("id", "name", "emails")
CHINESE_HEADERS = {
    "id": "单位编号", "name": "单位名称", "tags": "标签", "emails": "联系邮箱",
    "head_email": "负责人邮箱", "supervisor_email": "分管领导邮箱",
}  # fmt: skip
_EMAIL_COLUMNS = ("emails", "head_email", "supervisor_email")
_LINE_BREAK_COLUMNS = ("name", *_EMAIL_COLUMNS)
"""Cells that end up in mail headers (a display name, an address): a line break in them would
be refused by the mail builder when the first notice is sent, so it is refused here."""
_LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""What the mail builder refuses in a header: CR, LF, NUL and what str.splitlines() breaks on."""
_LIST_SEPARATORS = re.compile(r"[;；,，、\s]+")


@lru_cache(maxsize=1 << 16)
def checked_email(value: str) -> str:
    """What pydantic's ``EmailStr`` makes of ``value`` (its normalised address, or its error),
    remembered: each address of a 10,000-unit roster was checked four times (a cell's own
    message, then the model), 40,000 calls and a second of every command's start."""
    return validate_email(value)[1]


Email = Annotated[str, AfterValidator(checked_email)]
"""An address as ``EmailStr`` checks it, each distinct value checked once a process."""

MESSAGES: dict[Language, dict[str, str]] = {
    "en": {
        "not-found": "roster file not found",
        "file-type": "the roster must be a .csv or .xlsx file",
        "encoding": "not UTF-8 or GB18030 text (byte {byte}); save it again as CSV",
        "workbook": "not a readable .xlsx workbook; open it in Excel or WPS and save it as .xlsx",
        "empty": "the roster is empty",
        "missing": "missing column(s) {missing}; headers found: {found}; the header row must "
        "name id, name, emails (or 单位编号, 单位名称, 联系邮箱)",
        "email": "not an email address; expected one like name@example.cn (found {value!r})",
        "email-in": "{value!r} is not an email address; expected addresses like "
        "name@example.cn separated by ; or , (found {cell!r})",
        "required": "empty; every unit needs its {label}",
        "id": "not a unit id; expected up to 64 letters, digits, _ . or -, starting with a "
        "letter or digit (found {value!r})",
        "too-long": "longer than {limit} characters (found {value!r})",
        "duplicate-id": "unit id {value!r} appears {times}",
        "duplicate-name": "unit name {value!r} appears {times}",
        "line-break": "holds a line break (found '{value}'); write it on one line{separated}",
        "separated": ", several addresses separated by ; or ,",
    },
    "zh-CN": {
        "not-found": "找不到名单文件",
        "file-type": "名单须为 .csv 或 .xlsx 文件",
        "encoding": "不是 UTF-8 或 GB18030 编码的文本（第{byte}字节），请重新另存为 CSV",
        "workbook": "无法读取这个 .xlsx 工作簿，请用 Excel 或 WPS 打开后另存为 .xlsx",
        "empty": "名单中没有内容",
        "missing": "缺少{missing}列；找到的表头为：{found}。表头须包含单位编号、单位名称、"
        "联系邮箱（或 id、name、emails）",
        "email": "“{value}”不是有效的邮箱地址，应填写 name@example.cn 这样的地址",
        "email-in": "“{cell}”中的“{value}”不是有效的邮箱地址，应填写 name@example.cn 这样的"
        "地址，多个地址用；或，分隔",
        "required": "“{label}”不能为空",
        "id": "单位编号“{value}”不符合要求：只能使用字母、数字和 _ . -，以字母或数字开头，"
        "不超过64个字符",
        "too-long": "“{label}”不能超过{limit}个字（填写的是“{value}”）",
        "duplicate-id": "单位编号“{value}”重复出现{times}",
        "duplicate-name": "单位名称“{value}”重复出现{times}",
        "line-break": "“{label}”中有换行（填写的是“{value}”），请写在一行内{separated}",
        "separated": "，多个地址用；或，分隔",
    },
}


class Unit(Strict):
    id: UnitId
    name: str = Field(min_length=1, max_length=100)
    tags: tuple[str, ...] = ()
    emails: tuple[Email, ...] = Field(min_length=1)
    head_email: Email | None = None
    supervisor_email: Email | None = None

    def has_address(self, address: str) -> bool:
        wanted = address.strip().lower()
        return any(e.lower() == wanted for e in self.emails)


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in _LIST_SEPARATORS.split(value.strip()) if part)


def load_roster(path: Path, language: Language = "en") -> list[Unit]:
    """Read and check every row; raise ``InvalidInputError`` listing all problems at once."""
    say = Say(path.name, language, MESSAGES)
    if not path.is_file():
        raise InvalidInputError(str(path), [Problem(str(path), say("not-found"))])
    rows = read_rows(path, say)
    problems: list[Problem] = []
    units = list(_parse_rows(rows, say, problems))
    _check_unique(units, say, problems)
    if problems:
        raise InvalidInputError(str(path), problems)
    return [unit for _, unit in units]


def _parse_rows(rows: list[Row], say: Say, problems: list[Problem]) -> Iterator[tuple[int, Unit]]:
    found = records(rows, HEADER_ALIASES, REQUIRED_HEADERS, CHINESE_HEADERS, say, problems)
    if found is None:
        return
    header, below = found
    for number, cells in below:
        unit = _parse_row(number, header, cells, say, problems)
        if unit is not None:
            yield number, unit


def _parse_row(
    number: int, header: Header, cells: list[str], say: Say, problems: list[Problem]
) -> Unit | None:
    def label(key: str) -> str:
        return header.labels.get(key) or (CHINESE_HEADERS[key] if say.language == "zh-CN" else key)

    raw = {key: header.cell(cells, key) for key in HEADER_ALIASES.values()}
    reported = _line_breaks(raw, label, say)  # one message per cell; pydantic may give two
    for key in _EMAIL_COLUMNS:
        for address in split_list(raw[key]):
            if key not in reported and not is_email(address):
                code = "email" if address == raw[key] else "email-in"
                reported[key] = say(code, value=address, cell=raw[key])
    fields: dict[str, object] = {
        **raw,
        "tags": split_list(raw["tags"]),
        "emails": split_list(raw["emails"]),
        "head_email": raw["head_email"] or None,
        "supervisor_email": raw["supervisor_email"] or None,
    }
    try:
        unit = Unit.model_validate(fields)
    except ValidationError as error:
        unit = None
        for item in error.errors():
            key = str(item["loc"][0])
            if key not in reported:
                reported[key] = _explain(item, raw.get(key, ""), label(key), say)
    for key, message in sorted(reported.items(), key=lambda r: header.columns.get(r[0], 0)):
        problems.append(Problem(say.cell(number, label(key)), message))
    return None if reported else unit


def _line_breaks(raw: dict[str, str], label: Any, say: Say) -> dict[str, str]:
    """A line break inside a name or an address cell (an Alt+Enter in Excel), by field."""
    found: dict[str, str] = {}
    for key in _LINE_BREAK_COLUMNS:
        if _LINE_BREAKS.search(raw[key]):
            separated = say("separated") if key in _EMAIL_COLUMNS else ""
            shown = _LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], raw[key])
            found[key] = say("line-break", value=shown, label=label(key), separated=separated)
    return found


def _explain(item: Any, value: str, label: str, say: Say) -> str:
    kind = item["type"]
    if kind in ("string_too_short", "too_short", "missing") or not value:
        return say("required", label=label)
    if kind == "string_pattern_mismatch":
        return say("id", value=value)
    if kind == "string_too_long":
        return say("too-long", value=value, label=label, limit=item["ctx"]["max_length"])
    return f"{item['msg']} (found {value!r})"


def _check_unique(units: list[tuple[int, Unit]], say: Say, problems: list[Problem]) -> None:
    """Each id and each name used once; a clash names every row using it."""
    for code, values in (
        ("duplicate-id", [(number, unit.id) for number, unit in units]),
        ("duplicate-name", [(number, unit.name) for number, unit in units]),
    ):
        for value, numbers in rows_of_each(values).items():
            if len(numbers) > 1:
                message = say(code, value=value, times=say.times(len(numbers)))
                problems.append(Problem(say.rows(numbers), message))


def is_email(value: str) -> bool:
    try:
        checked_email(value)
    except PydanticCustomError:
        return False
    return True
