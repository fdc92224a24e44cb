"""The roster: every member unit, read from the CSV or XLSX file a coordinator keeps.

Headers may be English (``id, name, tags, emails, head_email, supervisor_email``) or the
Chinese a coordinator would type (单位编号, 单位名称, 标签, 联系邮箱, 负责人邮箱, 分管领导邮箱).
Lists (tags, emails) are separated by ``;``, ``；``, ``,``, ``，`` or ``、``. CSV files saved by
Excel on a Chinese Windows are GB18030, not UTF-8: both are read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints, TypeAdapter, ValidationError

from duban.errors import InvalidInputError, Problem
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
_LIST_SEPARATORS = re.compile(r"[;；,，、\s]+")
_email = TypeAdapter(EmailStr)


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


def load_roster(path: Path) -> list[Unit]:
    """Read and check every row; raise ``InvalidInputError`` listing all problems at once."""
    if not path.is_file():
        raise InvalidInputError(str(path), [Problem(str(path), "roster file not found")])
    rows = _read_rows(path)
    problems: list[Problem] = []
    units = list(_parse_rows(path.name, rows, problems))
    _check_unique(path.name, units, problems)
    if problems:
        raise InvalidInputError(str(path), problems)
    return units


def _read_rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        return list(csv.reader(io.StringIO(_decode(path.read_bytes()))))
    raise InvalidInputError(
        str(path), [Problem(path.name, "the roster must be a .csv or .xlsx file")]
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # only rosters in XLSX need it; keeps start-up light

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read-only mode trusts a stale dimension and drops rows
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()


def _parse_rows(source: str, rows: list[list[str]], problems: list[Problem]) -> Iterator[Unit]:
    if not rows:
        problems.append(Problem(source, "the roster is empty"))
        return
    columns = _map_headers(source, rows[0], problems)
    if columns is None:
        return
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        unit = _parse_row(f"{source} row {number}", columns, row, problems)
        if unit is not None:
            yield unit


def _map_headers(source: str, header: list[str], problems: list[Problem]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = HEADER_ALIASES.get(raw.strip().lower()) or HEADER_ALIASES.get(raw.strip())
        if key is not None and key not in columns:
            columns[key] = index
    missing = [h for h in REQUIRED_HEADERS if h not in columns]
    if missing:
        problems.append(
            Problem(
                f"{source} row 1",
                f"missing column(s) {', '.join(missing)}; the header row must name "
                "id, name, emails (or 单位编号, 单位名称, 联系邮箱)",
            )
        )
        return None
    return columns


def _parse_row(
    where: str, columns: dict[str, int], row: list[str], problems: list[Problem]
) -> Unit | None:
    def cell(key: str) -> str:
        index = columns.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    raw = {key: cell(key) for key in HEADER_ALIASES.values()}
    fields: dict[str, object] = {
        **raw,
        "tags": split_list(raw["tags"]),
        "emails": split_list(raw["emails"]),
        "head_email": raw["head_email"] or None,
        "supervisor_email": raw["supervisor_email"] or None,
    }
    try:
        return Unit.model_validate(fields)
    except ValidationError as error:
        reported: set[str] = set()
        for item in error.errors():
            column = str(item["loc"][0])
            if column not in reported:  # one message per cell; pydantic may give two
                reported.add(column)
                message = f"{_plain(item['msg'])} (found {raw.get(column, '')!r})"
                problems.append(Problem(f"{where}, column {column}", message))
        return None


def _plain(message: str) -> str:
    return message.replace("value is not a valid email address: ", "not an email address: ")


def _check_unique(source: str, units: Iterable[Unit], problems: list[Problem]) -> None:
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for unit in units:
        if unit.id in seen_ids:
            problems.append(Problem(source, f"unit id {unit.id!r} appears twice"))
        if unit.name in seen_names:
            problems.append(Problem(source, f"unit name {unit.name!r} appears twice"))
        seen_ids.add(unit.id)
        seen_names.add(unit.name)


def is_email(value: str) -> bool:
    try:
        _email.validate_python(value)
    except ValidationError:
        return False
    return True
