"""A rectification item (整改事项): one problem, its measure, owner and deadline, tracked to
closure.

An item's code (``ZG-B03-007``) is what units and the coordinator write in workbooks and say on
the phone, so it is readable, stable and never reused: ``ZG``, the unit's id, and the unit's
own sequence number (three digits, more when a unit passes 999). The ledger hands the numbers
out (``ledger.create_items``); this module only spells them and reads problem-list rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from duban.errors import DubanError
from duban.model.campaign import Campaign, Deliverable, ItemField, ItemSource, RectificationSpec

CODE_PREFIX = "ZG"
"""整改: the first part of every item code."""

_LIST_SEPARATORS = re.compile(r"[;；,，、\s]+")
_YES = frozenset({"是", "长期", "长期坚持", "y", "yes", "true", "1", "√", "✓"})
LONG_TERM_WORDS = frozenset({"长期", "长期坚持", "常态化", "long-term", "long term"})
"""What offices write in the deadline cell of a problem that has none (长期坚持)."""


def item_code(unit_id: str, seq: int) -> str:
    """``ZG-B03-007``: the prefix, the unit, its sequence number zero-padded to three."""
    return f"{CODE_PREFIX}-{unit_id}-{seq:03d}"


def plain(finding: str) -> str:
    """A finding compared without its spaces: the same problem typed twice is one (a list
    sent again, a file imported again)."""
    return "".join(finding.split())


@dataclass(frozen=True)
class NewItem:
    """A problem to be recorded; the ledger gives it its code and state.

    ``origin_key`` names where it came from (a submission's row, a line of an import) so that
    recording the same origin again, after a crash or a resend, records nothing new.
    """

    unit_id: str
    finding: str
    source: ItemSource = "self-check"
    category: str | None = None
    cause: str | None = None
    measure: str | None = None
    owner: str | None = None
    partners: tuple[str, ...] = ()
    deadline: date | None = None
    long_term: bool = False
    origin_key: str | None = None
    submission_id: int | None = None
    inspection_round_id: int | None = None
    """The inspection round whose scoresheet found it (source ``inspection``)."""

    def __post_init__(self) -> None:
        if not self.finding.strip():
            raise ItemInputError("an item needs its finding (问题描述)", "问题描述不能为空")
        if self.deadline is None and not self.long_term:
            raise ItemInputError(
                f"the item {self.finding[:30]!r} has no deadline and is not long-term",
                f"问题“{self.finding[:30]}”没有整改时限，也未标明长期坚持",
            )


@dataclass(frozen=True)
class Item:
    """An item as the ledger holds it: what was found, and where it stands.

    ``deadline`` is the deadline now in force (after any extension); ``first_deadline`` the one
    first set. ``last_reason`` is the reason of the last return or cancellation, which the
    unit's next progress workbook can show.
    """

    code: str
    campaign_id: str
    unit_id: str
    seq: int
    source: ItemSource
    finding: str
    category: str | None
    cause: str | None
    measure: str | None
    owner: str | None
    partners: tuple[str, ...]
    deadline: date | None
    first_deadline: date | None
    long_term: bool
    state: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    progress: str | None = None
    evidence: str | None = None
    evidence_files: tuple[str, ...] = ()
    completed_on: date | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    reviewed_by: str | None = None
    last_reason: str | None = None
    submission_id: int | None = None
    origin_key: str | None = field(default=None, compare=False)


class ItemInputError(DubanError):
    """A row or request that cannot become an item (no finding, no deadline)."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(
            message,
            hint="fill in the row and send it again",
            zh=zh,
            zh_hint="请补全后重新报送",
        )


def problem_rows(
    campaign: Campaign, deliverable: Deliverable, rows_by_sheet: Mapping[str, Sequence[Any]]
) -> Sequence[Mapping[str, Any]]:
    """The rows of the sheet that lists problems, from a submission's rows per sheet name
    (``Checked.rows``, ``SubmissionRow.rows``): the mapping's ``sheet``, else the form's only
    one (the loader makes sure one of them is so)."""
    spec = deliverable.rectification
    if spec is None:
        raise ValueError(f"deliverable {deliverable.id!r} creates no rectification items")
    name = spec.sheet or campaign.form(deliverable.form).sheets[0].name
    return list(rows_by_sheet.get(name, ()))


def items_from_rows(
    rows: Sequence[Mapping[str, Any]],
    spec: RectificationSpec,
    unit_id: str,
    *,
    origin: str | None = None,
    submission_id: int | None = None,
) -> list[NewItem]:
    """The items a problem list's validated rows describe (``Checked.rows[sheet]``: column key
    to value, dates as ISO text), through the deliverable's ``rectification`` mapping.

    ``origin`` (such as ``submission:42``) makes each row's ``origin_key``
    (``submission:42:row:3``, rows numbered from 1 in the order given), so recording the same
    submission twice creates its items once. A deadline cell holding 长期坚持 (or 长期, 常态化)
    marks the item long-term, as offices write it.
    """
    items = []
    for number, row in enumerate(rows, start=1):
        try:
            items.append(_item_of(row, spec, unit_id, origin, number, submission_id=submission_id))
        except ItemInputError as error:
            raise ItemInputError(
                f"row {number}: {error.message}", f"第 {number} 行：{error.zh}"
            ) from None
    return items


def _item_of(
    row: Mapping[str, Any],
    spec: RectificationSpec,
    unit_id: str,
    origin: str | None,
    number: int,
    *,
    submission_id: int | None,
) -> NewItem:
    def cell(name: ItemField) -> Any:
        key = spec.columns.get(name)
        return None if key is None else row.get(key)

    due = cell("due")
    long_term = _yes(cell("long_term")) or _says_long_term(due)
    return NewItem(
        unit_id=unit_id,
        finding=_text(cell("finding")) or "",
        source=spec.source,
        category=_text(cell("category")),
        cause=_text(cell("cause")),
        measure=_text(cell("measure")),
        owner=_text(cell("owner")),
        partners=_list(cell("partners")),
        deadline=None if _says_long_term(due) else _date(due),
        long_term=long_term,
        origin_key=None if origin is None else f"{origin}:row:{number}",
        submission_id=submission_id,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p for p in _LIST_SEPARATORS.split(str(value)) if p)


def _yes(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in _YES


def _says_long_term(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in LONG_TERM_WORDS


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ItemInputError(
            f"the deadline {value!r} is not a date such as 2026-09-30",
            f"整改时限“{value}”不是日期，应如 2026-09-30",
        ) from None
