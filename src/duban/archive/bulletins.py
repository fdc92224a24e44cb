"""A deliverable's bulletin (通报, .docx) in the bag, against the summary it was made with.

``duban compile`` writes the summary workbook and the bulletin from one gathering of the
ledger, into one folder, the bulletin numbered by the campaign's ``bulletin_issues``. The
replay recomputes the summary's figures for the moment its audit sheet records
(``archive.summaries``); the bulletin beside it, named as ``compile.outputs.file_names`` names
it, is written again from those figures with the same writer and its number, and compared by
its text (``archive.documents``): the counts, the rates, the late and missing units it names.
The HTML (as mailed) is not compared: it is rendered from the templates of the version that
sent it, which the bag does not keep.

A bulletin with rectification figures (整改进展) counted the items as they stood when it was
compiled; the ledger keeps each item as it stands now. The figures are counted again from the
items as they stood then, rebuilt from their events (``selfcheck.history.items_as_of``). Only
when the events of an item recorded by then cannot say its state, deadline or closing day then
is the bulletin not compared (its summary's counts and rates still are): the replay says so and
how many items that concerned.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from duban.archive.documents import compare_documents
from duban.archive.ledgers import COUNTED
from duban.archive.pages import bag_templates, check_page
from duban.archive.restore import Restored
from duban.archive.written import Written
from duban.compile.bulletin import render_bulletin_html, write_bulletin_docx
from duban.compile.model import CompileInput
from duban.compile.outputs import file_names
from duban.compile.rectification import rectification_figures
from duban.compile.texts import BULLETIN_TEXTS
from duban.errors import Problem
from duban.ledger.schema import BulletinIssueRow
from duban.selfcheck.history import items_as_of


def bulletin_of(summary: str, data: CompileInput, suffix: str = ".docx") -> str:
    """The bulletin's path in the bag, beside the summary (``data/outputs/…``): the printable
    ``.docx``, or the page as mailed (``.html``)."""
    return f"{summary.rsplit('/', 1)[0]}/{file_names(data)[1]}{suffix}"


def check_bulletin(
    path: Path, relative: str, data: CompileInput, ledger: Restored
) -> list[Problem]:
    """Each paragraph or table cell that differs from the bulletin written again; for the
    page as mailed, each line that differs from the page rendered again (``archive.pages``)."""
    number = _number(data, ledger)
    if path.suffix.lower() == ".html":
        templates = bag_templates(ledger.bag)
        assert templates is not None  # the replay offers a page only with the templates
        return check_page(
            path,
            relative,
            templates,
            lambda env: render_bulletin_html(data, env, number=number).html,
        )
    again = ledger.scratch / "bulletins" / path.name
    again.parent.mkdir(exist_ok=True)
    write_bulletin_docx(data, again, number=number)
    return compare_documents(path, again, relative)


def _number(data: CompileInput, ledger: Restored) -> str | None:
    """The bulletin's issue number (第N期), as the ledger recorded it."""
    with ledger.session() as session:
        issue = session.scalar(select(BulletinIssueRow.number).where(
            BulletinIssueRow.campaign_id == data.campaign_id,
            BulletinIssueRow.deliverable_id == data.deliverable_id,
            BulletinIssueRow.period == data.period,
        ))  # fmt: skip
    return None if issue is None else BULLETIN_TEXTS[data.language].issue.format(n=issue)


def as_then(
    data: CompileInput, ledger: Restored, compiled: Written | None
) -> tuple[CompileInput, int]:
    """The bulletin's figures with its rectification items as they stood when it was compiled
    (the moves logged before its ``compile.written`` event; without one, those made by its
    moment), and how many of them their events cannot rebuild (then the figures are not
    recounted)."""
    if data.rectification is None:
        return data, 0
    before = None if compiled is None else compiled.id
    with ledger.session() as session:
        then = items_as_of(session, data.campaign_id, data.as_of, before)
    if unknown := sum(bool(t.unknown & COUNTED) for t in then):
        return data, unknown
    roster = {u.id: (u.name, u.tags) for u in ledger.bundle.units_by_id.values()}
    figures = rectification_figures([t.item for t in then], data.rectification.rules, roster,
                                    data.as_of)  # fmt: skip
    return replace(data, rectification=figures), 0
