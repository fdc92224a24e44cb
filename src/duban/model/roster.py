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

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, TypeAdapter, ValidationError

from duban.errors import InvalidInputError, Problem
from duban.model.campaign import Language
from duban.model.forms import Strict

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
HEADER_SEARCH_ROWS = 10
"""The header row is looked for among this many rows at the top of the file."""
_EMAIL_COLUMNS = ("emails", "head_email", "supervisor_email")
_LINE_BREAK_COLUMNS = ("name", *_EMAIL_COLUMNS)
"""Cells that end up in mail headers (a display name, an address): a line break in them would
be refused by the mail builder when the first notice is sent, so it is refused here."""
_LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""What the mail builder refuses in a header: CR, LF, NUL and what str.splitlines() breaks on."""
_LIST_SEPARATORS = re.compile(r"[;；,，、\s]+")
_LABEL_NOISE = re.compile(r"[\s*＊]+|[(（][^)）]*[)）]")
_UTF8_BOM = b"\xef\xbb\xbf"
_GB18030_BOM = "\ufeff".encode("gb18030")
_email = TypeAdapter(EmailStr)

MESSAGES: dict[Language, dict[str, str]] = {
    "en": {
        "row": "{source} row {row}",
        "rows": "{source} rows {rows}",
        "cell": "{source} row {row}, column {label}",
        "and": " and ",
        "none": "(none)",
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
        "row": "{source} 第{row}行",
        "rows": "{source} {rows}",
        "cell": "{source} 第{row}行“{label}”列",
        "and": "、",
        "none": "（无）",
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
    emails: tuple[EmailStr, ...] = Field(min_length=1)
    head_email: EmailStr | None = None
    supervisor_email: EmailStr | None = None

    def has_address(self, address: str) -> bool:
        wanted = address.strip().lower()
        return any(e.lower() == wanted for e in self.emails)


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in _LIST_SEPARATORS.split(value.strip()) if part)


Row = tuple[int, list[str]]
"""A row's number as the spreadsheet program shows it (from 1) and its cells as text."""


def load_roster(path: Path, language: Language = "en") -> list[Unit]:
    """Read and check every row; raise ``InvalidInputError`` listing all problems at once."""
    say = _Say(path.name, language)
    if not path.is_file():
        raise InvalidInputError(str(path), [Problem(str(path), say("not-found"))])
    rows = _read_rows(path, say)
    problems: list[Problem] = []
    units = list(_parse_rows(rows, say, problems))
    _check_unique(units, say, problems)
    if problems:
        raise InvalidInputError(str(path), problems)
    return [unit for _, unit in units]


@dataclass(frozen=True)
class _Say:
    """The messages of one roster file in one language."""

    source: str
    language: Language

    def __call__(self, code: str, **detail: Any) -> str:
        return MESSAGES[self.language][code].format(**detail)

    def row(self, row: int) -> str:
        return self("row", source=self.source, row=row)

    def rows(self, rows: Sequence[int]) -> str:
        if self.language == "zh-CN":
            listed = "、".join(f"第{n}行" for n in rows)
        else:
            listed = ", ".join(map(str, rows[:-1])) + " and " + str(rows[-1])
        return self("rows", source=self.source, rows=listed)

    def cell(self, row: int, label: str) -> str:
        return self("cell", source=self.source, row=row, label=label)

    def join(self, items: Sequence[str]) -> str:
        if not items:
            return self("none")
        if self.language == "zh-CN":
            return "、".join(f"“{item}”" for item in items)
        return ", ".join(items)

    def times(self, count: int) -> str:
        if self.language == "zh-CN":
            return f"{count}次"
        return "twice" if count == 2 else f"{count} times"


def _read_rows(path: Path, say: _Say) -> list[Row]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, say)
    if path.suffix.lower() == ".csv":
        records = csv.reader(io.StringIO(_decode(path, say)))
        return list(enumerate(records, start=1))  # a record is a row in Excel or WPS
    raise InvalidInputError(str(path), [Problem(path.name, say("file-type"))])


def _decode(path: Path, say: _Say) -> str:
    """UTF-8 or GB18030 (GBK is a subset), with or without a byte order mark.

    Some programs put the UTF-8 mark before GBK text, so the mark alone does not decide."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    body = data.removeprefix(_UTF8_BOM).removeprefix(_GB18030_BOM)
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError as error:
        offset = error.start + len(data) - len(body)
        raise InvalidInputError(
            str(path), [Problem(path.name, say("encoding", byte=offset))]
        ) from None


def _read_xlsx(path: Path, say: _Say) -> list[Row]:
    from openpyxl import load_workbook  # only rosters in XLSX need it; keeps start-up light
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise InvalidInputError(str(path), [Problem(path.name, say("workbook"))]) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read-only mode trusts a stale dimension and drops rows
        cells = sheet.iter_rows(min_row=1, values_only=True)  # empty rows included
        return [
            (number, ["" if v is None else str(v) for v in row])
            for number, row in enumerate(cells, start=1)
        ]
    finally:
        book.close()


@dataclass(frozen=True)
class _Header:
    row: int
    columns: dict[str, int]
    """The column index of each field the header names."""
    labels: dict[str, str]
    """Each field's label as written in the file."""
    found: list[str]
    """Every non-empty label of the row, in order."""


def _parse_rows(rows: list[Row], say: _Say, problems: list[Problem]) -> Iterator[tuple[int, Unit]]:
    filled = [(number, cells) for number, cells in rows if any(c.strip() for c in cells)]
    if not filled:
        problems.append(Problem(say.source, say("empty")))
        return
    header = _find_header(filled)
    missing = [h for h in REQUIRED_HEADERS if h not in header.columns]
    if missing:
        if say.language == "zh-CN":
            missing = [CHINESE_HEADERS[h] for h in missing]
        found = say.join(header.found)
        problems.append(
            Problem(say.row(header.row), say("missing", missing=say.join(missing), found=found))
        )
        return
    for number, cells in filled:
        if number > header.row:
            unit = _parse_row(number, header, cells, say, problems)
            if unit is not None:
                yield number, unit


def _find_header(filled: list[Row]) -> _Header:
    """The first row naming every required column, else the one naming the most columns."""
    candidates = [_header_of(number, cells) for number, cells in filled[:HEADER_SEARCH_ROWS]]
    for header in candidates:
        if all(h in header.columns for h in REQUIRED_HEADERS):
            return header
    return max(candidates, key=lambda h: len(h.columns))  # the first of the best


def _header_of(number: int, cells: list[str]) -> _Header:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, raw in enumerate(cells):
        key = HEADER_ALIASES.get(_LABEL_NOISE.sub("", raw).lower())
        if key is not None and key not in columns:
            columns[key] = index
            labels[key] = raw.strip()
    found = [cell.strip() for cell in cells if cell.strip()]
    return _Header(number, columns, labels, found)


def _parse_row(
    number: int, header: _Header, cells: list[str], say: _Say, problems: list[Problem]
) -> Unit | None:
    def cell(key: str) -> str:
        index = header.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def label(key: str) -> str:
        return header.labels.get(key) or (CHINESE_HEADERS[key] if say.language == "zh-CN" else key)

    raw = {key: cell(key) for key in HEADER_ALIASES.values()}
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


def _line_breaks(raw: dict[str, str], label: Any, say: _Say) -> dict[str, str]:
    """A line break inside a name or an address cell (an Alt+Enter in Excel), by field."""
    found: dict[str, str] = {}
    for key in _LINE_BREAK_COLUMNS:
        if _LINE_BREAKS.search(raw[key]):
            separated = say("separated") if key in _EMAIL_COLUMNS else ""
            shown = _LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], raw[key])
            found[key] = say("line-break", value=shown, label=label(key), separated=separated)
    return found


def _explain(item: Any, value: str, label: str, say: _Say) -> str:
    kind = item["type"]
    if kind in ("string_too_short", "too_short", "missing") or not value:
        return say("required", label=label)
    if kind == "string_pattern_mismatch":
        return say("id", value=value)
    if kind == "string_too_long":
        return say("too-long", value=value, label=label, limit=item["ctx"]["max_length"])
    return f"{item['msg']} (found {value!r})"


def _check_unique(units: list[tuple[int, Unit]], say: _Say, problems: list[Problem]) -> None:
    """Each id and each name used once; a clash names every row using it."""
    for code, values in (
        ("duplicate-id", [(number, unit.id) for number, unit in units]),
        ("duplicate-name", [(number, unit.name) for number, unit in units]),
    ):
        rows: dict[str, list[int]] = {}
        for number, value in values:
            rows.setdefault(value, []).append(number)
        for value, numbers in rows.items():
            if len(numbers) > 1:
                message = say(code, value=value, times=say.times(len(numbers)))
                problems.append(Problem(say.rows(numbers), message))


def is_email(value: str) -> bool:
    try:
        _email.validate_python(value)
    except ValidationError:
        return False
    return True
