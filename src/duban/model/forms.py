"""Form specifications: what a unit's workbook must contain, column by column.

A form is declared in the campaign file. The same spec drives the template sent out (mobilize),
the cell-by-cell validation of what comes back (collect) and the columns of the summary workbook
(compile), so a coordinator changes a column in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

TITLE_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
"""Where a form sheet's title, header and first data row are, in the template sent out and in
the workbook read back: the contract between mobilize and intake (a change is a new template
version)."""

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$", strip_whitespace=True)
]
"""Ids used in files, URLs and idempotency keys: lower-case ASCII, digits, ``_`` and ``-``."""

ColumnType = Literal["text", "integer", "decimal", "date", "choice", "email", "phone"]

_STRAIGHT_QUOTE = '"'


def display_title(title: str, language: str) -> str:
    """A title as a Chinese document prints it: straight double quotes, which a campaign file
    is typed with, become “ and ” in pairs (GB/T 15834); other languages keep the title."""
    if language != "zh-CN" or _STRAIGHT_QUOTE not in title:
        return title
    parts = title.split(_STRAIGHT_QUOTE)
    marks = ["“" if n % 2 == 0 else "”" for n in range(len(parts) - 1)]
    return "".join(p + m for p, m in zip(parts, [*marks, ""], strict=True))


# Excel refuses these in sheet names, and caps names at 31 characters.
_SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


class WordedValueError(ValueError):
    """A validator's complaint with its Chinese wording, which the loader shows a Chinese reader
    (pydantic keeps the exception in the error's context)."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


def kind_from_id(data: object, kinds: Sequence[str]) -> object:
    """A file item whose id is one of ``kinds`` (``id: mobilize``, ``id: timeliness``) need
    not repeat it as its kind: older files wrote only the id."""
    if isinstance(data, dict) and "kind" not in data and data.get("id") in kinds:
        return {**data, "kind": data["id"]}
    return data


class Strict(BaseModel):
    """Base of every file model: unknown keys are errors, because a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Column(Strict):
    key: Identifier
    label: str = Field(min_length=1, max_length=100)
    type: ColumnType = "text"
    required: bool = False
    choices: list[str] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = Field(default=None, gt=0, le=32767)
    width: float | None = Field(default=None, gt=0, le=255)
    help: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice column needs a non-empty 'choices' list")
        if self.type != "choice" and self.choices:
            raise ValueError(f"'choices' only applies to type choice, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if (self.min is not None or self.max is not None) and self.type not in (
            "integer",
            "decimal",
        ):
            raise ValueError("'min' and 'max' apply to integer and decimal columns only")
        return self


class Sheet(Strict):
    name: str = Field(min_length=1, max_length=31)
    title: str | None = None
    columns: list[Column] = Field(min_length=1)
    min_rows: int = Field(default=0, ge=0)
    max_rows: int = Field(default=500, ge=1, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        bad = _SHEET_NAME_FORBIDDEN.intersection(self.name)
        if bad:
            raise ValueError(f"sheet name may not contain {' '.join(sorted(bad))} (Excel rule)")
        keys = [c.key for c in self.columns]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"column keys must be unique; repeated: {', '.join(dupes)}")
        if self.min_rows > self.max_rows:
            raise ValueError(f"min_rows ({self.min_rows}) is greater than max_rows")
        return self


class Form(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    sheets: list[Sheet] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sheets(self) -> Self:
        names = [s.name for s in self.sheets]
        if len(set(names)) != len(names):
            raise ValueError("sheet names must be unique within a form")
        return self
