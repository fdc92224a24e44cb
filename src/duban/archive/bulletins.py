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
compiled; the ledger keeps each item as it stands now. When an item recorded by then has moved
since, those figures cannot be recomputed, and the bulletin is not compared (its summary's
counts and rates still are): the replay says so and how many items moved.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from duban.archive.documents import compare_documents
from duban.archive.restore import Restored
from duban.compile.bulletin import write_bulletin_docx
from duban.compile.model import CompileInput
from duban.compile.outputs import file_names
from duban.compile.texts import BULLETIN_TEXTS
from duban.errors import Problem
from duban.ledger.schema import BulletinIssueRow, RectificationRow


def bulletin_of(summary: str, data: CompileInput) -> str:
    """The bulletin's path in the bag, beside the summary (``data/outputs/…``)."""
    return f"{summary.rsplit('/', 1)[0]}/{file_names(data)[1]}.docx"


def check_bulletin(
    path: Path, relative: str, data: CompileInput, ledger: Restored
) -> list[Problem]:
    """Each paragraph or table cell that differs from the bulletin written again."""
    with ledger.session() as session:
        issue = session.scalar(select(BulletinIssueRow.number).where(
            BulletinIssueRow.campaign_id == data.campaign_id,
            BulletinIssueRow.deliverable_id == data.deliverable_id,
            BulletinIssueRow.period == data.period,
        ))  # fmt: skip
    number = None if issue is None else BULLETIN_TEXTS[data.language].issue.format(n=issue)
    again = ledger.scratch / "bulletins" / path.name
    again.parent.mkdir(exist_ok=True)
    write_bulletin_docx(data, again, number=number)
    return compare_documents(path, again, relative)


def moved_since(data: CompileInput, ledger: Restored) -> int:
    """How many rectification items the bulletin counted have moved since (none when it
    counts none)."""
    if data.rectification is None:
        return 0
    with ledger.session() as session:
        return session.scalar(select(func.count()).where(
            RectificationRow.campaign_id == data.campaign_id,
            RectificationRow.created_at <= data.as_of,
            RectificationRow.updated_at > data.as_of,
        )) or 0  # fmt: skip
