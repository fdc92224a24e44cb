"""A summary workbook (汇总表) in the bag, replayed: its figures recomputed from the ledger.

The workbook's hidden ``_duban`` sheet records the campaign, deliverable, period and the moment
it was compiled as of; ``compile.gather`` is run again on the restored ledger for that period
as of that moment, and each count (expected, received, on time, late, missing, rejected,
pending, exempted) and rate (completeness, timeliness) the overview sheet shows is compared
with the recomputed one. The detail rows (what units wrote) are not: they are the submissions'
own rows, which the bag keeps as received files and the ledger's ``submissions`` table.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from duban.compile.gather import gather
from duban.compile.model import CompileInput, Totals
from duban.compile.texts import WORKBOOK_TEXTS
from duban.compile.workbook import AUDIT_SHEET
from duban.errors import DubanError, Problem
from duban.model.loader import CampaignBundle

COUNTS = ("expected", "received", "on_time", "late", "missing", "rejected", "pending", "exempted")
RATES = ("completeness", "timeliness")


def is_summary(path: Path) -> bool:
    """A workbook with the compile's audit sheet."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return AUDIT_SHEET in book.sheetnames
    finally:
        book.close()


def check_summary(
    path: Path, relative: str, engine: Engine, bundle: CampaignBundle
) -> tuple[tuple[str, str], list[Problem], CompileInput | None]:
    """What was replayed (the period and moment, English and Chinese), each figure that
    differs, and the figures recomputed (None: they could not be), which the bulletin made
    with the summary is compared with (``archive.bulletins``)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        audit = {str(r[0]): r[1] for r in book[AUDIT_SHEET].iter_rows(values_only=True) if r}
        texts = WORKBOOK_TEXTS[bundle.campaign.language]
        shown = (
            {str(r[0]): r[1] for r in book[texts.overview_sheet].iter_rows(values_only=True) if r}
            if texts.overview_sheet in book.sheetnames
            else {}
        )
    finally:
        book.close()
    period = f"{audit.get('deliverable')} {audit.get('period')}"
    what = (f"{period} as of {audit.get('as_of')}", f"{period}（截至 {audit.get('as_of')}）")
    try:
        as_of = datetime.fromisoformat(str(audit.get("as_of")))
        data = gather(engine, bundle, str(audit.get("deliverable")), str(audit.get("period")),
                      as_of)  # fmt: skip
    except (DubanError, ValueError, TypeError) as error:
        return what, [Problem(relative, f"cannot be recomputed ({what[0]}): {error}",
                              f"无法复算（{what[1]}）：{error}")], None  # fmt: skip
    return what, _compared(relative, texts, shown, data.totals), data


def _compared(relative: str, texts: Any, shown: dict[str, Any], totals: Totals) -> list[Problem]:
    sheet = texts.overview_sheet
    found = []
    for name in (*COUNTS, *RATES):
        label = getattr(texts, name)
        want = getattr(totals, name)
        have = shown.get(label)
        if not _same(have, want):
            found.append(Problem(
                f"{relative} sheet {sheet} ({label})",
                f"{name} is {have}, recomputed {'—' if want is None else want}",
                f"{label} 为 {have}，复算为 {'—' if want is None else want}",
                f"{relative} 工作表“{sheet}”（{label}）",
            ))  # fmt: skip
    return found


def _same(have: Any, want: int | float | None) -> bool:
    if want is None:
        return bool(have == "—")
    if isinstance(have, bool) or not isinstance(have, int | float):
        return False
    return abs(float(have) - float(want)) < 1e-9
