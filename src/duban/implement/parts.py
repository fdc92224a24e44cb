"""Key tasks reported in two steps (牵头汇总、配合报送): the rules, no ledger.

A deliverable with ``partners`` is the leads' report on their key tasks; duban made its
partners' deliverable (``<id>-parts``). A partner's template lists one row per key task it
partners, the task's title locked in the task column; the partner fills in its share. The
lead's template holds the partners' accepted rows, every cell locked, the partner named in the
报送单位 column, then one row per key task it leads, the title locked, for its own share; it may
add rows, not drop or change a partner's.

``check_part`` and ``check_lead`` say what is wrong with a returned workbook's rows, one
finding per row, in the campaign's language, as the rejection lists a wrong cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from duban.model.campaign import (
    REPORTED_BY,
    Campaign,
    Deliverable,
    KeyTask,
    Language,
    PartnerSpec,
)
from duban.model.forms import FIRST_DATA_ROW, Sheet

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Chain:
    """A lead's deliverable and its partners' one: which is which, and their sheet."""

    lead: Deliverable
    parts: Deliverable
    spec: PartnerSpec
    sheet: Sheet

    @property
    def task_column(self) -> str:
        return self.spec.task_column


def chain_of(campaign: Campaign, deliverable: Deliverable) -> Chain | None:
    """The two-step chain ``deliverable`` belongs to (as the lead's or the partners' report),
    or None for any other deliverable."""
    lead = deliverable
    if deliverable.part_of is not None:
        lead = campaign.deliverable(deliverable.part_of)
    parts = campaign.parts_of(lead)
    if lead.partners is None or parts is None:
        return None
    form = campaign.form_of(lead)
    name = lead.partners.sheet or form.sheets[0].name
    sheet = next(s for s in form.sheets if s.name == name)
    return Chain(lead, parts, lead.partners, sheet)


def chains(campaign: Campaign, deliverable: str | None = None) -> list[Chain]:
    """The campaign's chains (one per lead's deliverable with partners); with ``deliverable``,
    only the chain it belongs to (as the lead's or the partners' deliverable)."""
    found = []
    for lead in campaign.deliverables:
        chain = chain_of(campaign, lead) if lead.partners is not None else None
        if chain is not None and deliverable in (None, chain.lead.id, chain.parts.id):
            found.append(chain)
    return found


def tasks_of(campaign: Campaign, lead: Deliverable) -> list[KeyTask]:
    """The key tasks the lead's deliverable reports on, in the campaign file's order."""
    named = lead.assign.leads
    return [t for t in campaign.key_tasks if named == "all" or (named and t.id in named)]


def partnered(campaign: Campaign, chain: Chain, unit_id: str) -> list[KeyTask]:
    """The key tasks of the chain ``unit_id`` partners."""
    return [t for t in tasks_of(campaign, chain.lead) if unit_id in t.partners]


def led(campaign: Campaign, chain: Chain, unit_id: str) -> list[KeyTask]:
    """The key tasks of the chain ``unit_id`` leads."""
    return [t for t in tasks_of(campaign, chain.lead) if t.lead == unit_id]


def partners_of(campaign: Campaign, chain: Chain, lead_id: str) -> list[str]:
    """The partners of the lead's key tasks, each once, in the order the tasks name them."""
    found: dict[str, None] = {}
    for task in led(campaign, chain, lead_id):
        found.update(dict.fromkeys(task.partners))
    return list(found)


def task_rows(chain: Chain, tasks: Sequence[KeyTask]) -> list[dict[str, Any]]:
    """One row per key task, only its title filled in (a unit's own rows to complete)."""
    return [{chain.task_column: t.title} for t in tasks]


def part_rows(chain: Chain, rows: Sequence[Row], partner_name: str) -> list[dict[str, Any]]:
    """A partner's accepted rows as the lead's template shows them: every column of the
    lead's sheet, the partner named in 报送单位."""
    keys = [c.key for c in chain.sheet.columns]
    return [{**{k: row.get(k) for k in keys if k != REPORTED_BY}, REPORTED_BY: partner_name}
            for row in rows]  # fmt: skip


@dataclass(frozen=True)
class PartFinding:
    """What is wrong with one row of a returned workbook, worded for the unit."""

    sheet: str
    cell: str
    zh: str
    en: str

    @property
    def detail(self) -> dict[str, str]:
        return {"sheet": self.sheet}

    def describe(self, language: Language) -> str:
        return self.zh if language == "zh-CN" else self.en


def check_part(
    campaign: Campaign, chain: Chain, unit_id: str, rows: Sequence[Row], numbers: Sequence[int]
) -> list[PartFinding]:
    """A partner's rows must each be about a key task it partners, and each such task have its
    row: its lead counts on it. ``numbers``: each row's number in the sheet."""
    titles = [t.title for t in partnered(campaign, chain, unit_id)]
    found = [
        _finding(chain, n, f"“{_text(row, chain.task_column)}”不是本单位配合的重点工作"
                 f"（应为：{'、'.join(titles)}）",
                 f"“{_text(row, chain.task_column)}” is not a key task your unit partners "
                 f"(expected: {'; '.join(titles)})")
        for n, row in zip(numbers, rows, strict=True)
        if _text(row, chain.task_column) not in titles
    ]  # fmt: skip
    written = {_text(row, chain.task_column) for row in rows}
    after = max(numbers, default=FIRST_DATA_ROW - 1) + 1
    found += [_finding(chain, after, f"缺少重点工作“{title}”的行：请填写本单位承担的部分",
                       f"no row about the key task “{title}”: fill in your unit's share")
              for title in titles if title not in written]  # fmt: skip
    return found


def check_lead(
    campaign: Campaign,
    chain: Chain,
    unit_id: str,
    rows: Sequence[Row],
    numbers: Sequence[int],
    accepted: Mapping[str, Sequence[Sequence[Row]]],
    names: Mapping[str, str],
) -> list[PartFinding]:
    """A lead's rows: those naming a partner must be one of that partner's accepted reports
    as it was sent (no row changed, none dropped); every partner with an accepted part must be
    there; its own rows (报送单位 empty) must be about a key task it leads.

    ``accepted``: each partner's accepted reports (every version, oldest first: the lead's
    copy may predate a correction), as the lead's template shows them (``part_rows``);
    ``names``: unit id → name; ``numbers``: each row's number in the sheet."""
    by_name = {names[p]: p for p in partners_of(campaign, chain, unit_id)}
    titles = [t.title for t in led(campaign, chain, unit_id)]
    found: list[PartFinding] = []
    theirs: dict[str, list[tuple[int, Row]]] = {}
    for n, row in zip(numbers, rows, strict=True):
        who = _text(row, REPORTED_BY)
        if not who and _text(row, chain.task_column) not in titles:
            found.append(_finding(chain, n, *_not_led(row, chain, titles)))
        elif who and who not in by_name:
            found.append(_finding(chain, n, f"“{who}”不是本单位牵头重点工作的配合单位，"
                                            "本单位填写的行“报送单位”请留空",
                                  f"“{who}” is not a partner of a key task your unit leads; "
                                  "leave Reported by empty on your own rows"))  # fmt: skip
        elif who:
            theirs.setdefault(by_name[who], []).append((n, row))
    for partner, versions in accepted.items():
        if versions:
            after = max(numbers, default=FIRST_DATA_ROW - 1) + 1
            found += _kept(chain, names[partner], versions, theirs.get(partner, []), after)
    return found


def _kept(
    chain: Chain,
    name: str,
    versions: Sequence[Sequence[Row]],
    rows: list[tuple[int, Row]],
    after: int,
) -> list[PartFinding]:
    """The partner's rows in the lead's workbook are one of its accepted reports, unchanged
    (found at its first row, or ``after`` the filled rows when none is left)."""
    keys = [c.key for c in chain.sheet.columns]
    mine = [tuple(_text(r, k) for k in keys) for _, r in rows]
    for version in versions:
        if mine == [tuple(_text(r, k) for k in keys) for r in version]:
            return []
    at = rows[0][0] if rows else after
    return [_finding(chain, at, f"配合单位“{name}”报送的行被删除或改动：请保留预填的行，"
                                "不要修改（如需更正请配合单位重新报送）",
                     f"the rows reported by {name} were removed or changed: keep the pre-filled "
                     "rows as they are (the partner sends a correction if one is needed)",
                     )]  # fmt: skip


def _not_led(row: Row, chain: Chain, titles: Sequence[str]) -> tuple[str, str]:
    task = _text(row, chain.task_column)
    return (f"“{task}”不是本单位牵头的重点工作（应为：{'、'.join(titles)}）",
            f"“{task}” is not a key task your unit leads (expected: {'; '.join(titles)})",
            )  # fmt: skip


def _finding(chain: Chain, number: int, zh: str, en: str) -> PartFinding:
    """Found at the row's key task cell."""
    keys = [c.key for c in chain.sheet.columns]
    letter = get_column_letter(keys.index(chain.task_column) + 1)
    return PartFinding(chain.sheet.name, f"{letter}{number}", zh, en)


def _text(row: Row, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()
