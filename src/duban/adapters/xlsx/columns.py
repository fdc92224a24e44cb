"""Per column: the rule Excel enforces while a unit types, the hint it shows, format and width.

Excel's checks are a convenience for the unit (the dropdown, an immediate error message);
intake validates every value again, because a unit can paste past a validation or unprotect a
sheet.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from openpyxl.worksheet.datavalidation import DataValidation

from duban.adapters.xlsx.texts import Texts
from duban.model.forms import Column

PROMPT_LIMIT = 255
"""Excel refuses to open a file whose validation prompt or error text is longer."""
TITLE_LIMIT = 32
"""The same for prompt and error titles."""
INLINE_LIST_LIMIT = 255
"""Longest inline list formula (the quoted, comma-separated choices) Excel accepts."""

# Excel keeps 15 significant digits; a bound past that would not round-trip.
_NO_LOWER = "-999999999999999"
_NO_UPPER = "999999999999999"
_FIRST_DATE, _LAST_DATE = "1", "2958465"  # serials of 1900-01-01 and 9999-12-31
_EMAIL_MAX, _PHONE_MAX = 254, 40  # RFC 5321 path limit; a number with extension and notes

NUMBER_FORMATS = {"integer": "0", "decimal": "General", "date": "yyyy-mm-dd"}
TEXT_FORMAT = "@"
"""Text format keeps 0519-… and long ID-like digits as typed instead of turning them into
numbers or dates."""


RuleType = Literal["whole", "decimal", "list", "date", "textLength"]
Operator = Literal["between", "greaterThanOrEqual", "lessThanOrEqual"]


@dataclass(frozen=True)
class ColumnRule:
    """A column's validation without its cell range, so one rule can serve any sheet."""

    type: RuleType | None
    operator: Operator | None = None
    formula1: str | None = None
    formula2: str | None = None


def describe(column: Column, texts: Texts) -> str:
    """The column's requirements in a sentence, for the instructions sheet and the prompt."""
    parts = [texts.required if column.required else texts.optional]
    if column.help:
        parts.append(column.help)  # before the constraint: a long choice list may be clipped
    constraint = constraint_text(column, texts)
    if constraint:
        parts.append(constraint)
    return texts.separator.join(parts)


def constraint_text(column: Column, texts: Texts) -> str:
    """What a valid value looks like, without required/optional."""
    kind = column.type
    if kind == "choice":
        return texts.choice.format(items=texts.list_separator.join(column.choices or []))
    if kind in ("integer", "decimal"):
        name = texts.integer if kind == "integer" else texts.decimal
        return name + _range_text(column, texts)
    if kind == "date":
        return texts.date
    base = {"email": texts.email, "phone": texts.phone}.get(kind, "")
    if column.max_length is not None:
        limit = texts.text_max.format(n=column.max_length)
        return f"{base}{texts.separator}{limit}" if base else limit
    return base


def _range_text(column: Column, texts: Texts) -> str:
    low, high = column.min, column.max
    if low is not None and high is not None:
        return texts.between.format(low=plain(low), high=plain(high))
    if low is not None:
        return texts.at_least.format(low=plain(low))
    if high is not None:
        return texts.at_most.format(high=plain(high))
    return ""


def plain(value: Decimal | int) -> str:
    """A number as a person writes it: 100, not 1E+2 nor 100.00."""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def rule(column: Column, list_ref: Callable[[list[str]], str]) -> ColumnRule:
    """The validation Excel applies to the column; ``list_ref`` places a long choice list."""
    kind = column.type
    if kind == "choice":
        return ColumnRule("list", formula1=choice_formula(column.choices or [], list_ref))
    if kind == "integer":
        low = None if column.min is None else str(math.ceil(column.min))
        high = None if column.max is None else str(math.floor(column.max))
        return _bounded("whole", low, high)
    if kind == "decimal":
        low = None if column.min is None else plain(column.min)
        high = None if column.max is None else plain(column.max)
        return _bounded("decimal", low, high)
    if kind == "date":
        return ColumnRule("date", "between", _FIRST_DATE, _LAST_DATE)
    default_max = {"email": _EMAIL_MAX, "phone": _PHONE_MAX}.get(kind)
    limit = column.max_length if column.max_length is not None else default_max
    if limit is None:
        return ColumnRule(None)  # no rule, but the prompt still shows
    return ColumnRule("textLength", "lessThanOrEqual", str(limit))


def _bounded(kind: Literal["whole", "decimal"], low: str | None, high: str | None) -> ColumnRule:
    if low is not None and high is not None:
        return ColumnRule(kind, "between", low, high)
    if low is not None:
        return ColumnRule(kind, "greaterThanOrEqual", low)
    if high is not None:
        return ColumnRule(kind, "lessThanOrEqual", high)
    return ColumnRule(kind, "between", _NO_LOWER, _NO_UPPER)


def choice_formula(choices: list[str], list_ref: Callable[[list[str]], str]) -> str:
    """Inline when possible: openpyxl drops a dropdown whose list is on another sheet once
    Excel has moved it to an extension block, and an inline list survives every re-save."""
    inline = '"' + ",".join(choices) + '"'
    fits = len(inline) <= INLINE_LIST_LIMIT
    if fits and not any("," in c or '"' in c for c in choices):
        return inline
    return list_ref(choices)


def validation(column: Column, texts: Texts, column_rule: ColumnRule, sqref: str) -> DataValidation:
    """An openpyxl DataValidation for the cells ``sqref`` of this column."""
    constraint = constraint_text(column, texts)
    return DataValidation(
        type=column_rule.type,
        operator=column_rule.operator,
        formula1=column_rule.formula1,
        formula2=column_rule.formula2,
        allowBlank=True,
        showInputMessage=True,
        showErrorMessage=column_rule.type is not None,
        errorStyle="stop" if column_rule.type is not None else None,
        promptTitle=clip(column.label, TITLE_LIMIT),
        prompt=clip(describe(column, texts), PROMPT_LIMIT),
        errorTitle=clip(texts.error_title, TITLE_LIMIT) if column_rule.type else None,
        error=clip(texts.error_prefix + constraint, PROMPT_LIMIT) if column_rule.type else None,
        sqref=sqref,
    )


def clip(text: str, limit: int) -> str:
    """Shorten to Excel's limit with an ellipsis rather than produce a file Excel repairs."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number_format(column: Column) -> str:
    return NUMBER_FORMATS.get(column.type, TEXT_FORMAT)


def display_width(text: str) -> int:
    """Width in Excel's units: a CJK character takes about two digit widths."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def width(column: Column) -> float:
    """Column.width, or a width that shows the header and a typical value without wrapping."""
    if column.width is not None:
        return column.width
    label = display_width(column.label) + 4
    typical = {"date": 12, "integer": 10, "decimal": 12, "email": 26, "phone": 16}.get(
        column.type, 12
    )
    if column.type == "choice":
        typical = max(display_width(c) for c in column.choices or [""]) + 4
    if column.type == "text" and (column.max_length or 0) > 100:
        typical = 40
    return float(min(60, max(8, label, typical)))
