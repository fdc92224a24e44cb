"""An inspection round's outputs in the bag, written again from the restored ledger.

``duban inspect report`` gathers the round's report as of its clock and writes the summary
workbook (督查汇总表) and the bulletin (督查通报, .docx); its ``inspection.reported`` event
names both files and records the moment (``archive.written``). The replay gathers the report
of that round as of that moment (``inspect.gather.gather_report``: the sheets recorded by then)
with the campaign files kept by then, writes both again with the same writers, and compares the
workbook cell by cell (``archive.cells``) and the bulletin by its text (``archive.documents``).
The bulletin's page as mailed (.html, beside the .docx) is rendered again with the templates
the bag keeps and compared line by line (``archive.pages``).
"""

from __future__ import annotations

from pathlib import Path

from duban.archive.cells import compare_workbooks
from duban.archive.documents import compare_documents
from duban.archive.pages import bag_templates, check_page
from duban.archive.restore import Restored
from duban.archive.versions import Versions
from duban.archive.written import Written, moment
from duban.errors import Problem
from duban.inspect.bulletin import render_bulletin, write_bulletin_docx
from duban.inspect.gather import gather_report
from duban.inspect.summary import write_inspection_summary


def check_inspection(
    path: Path, relative: str, written: Written, ledger: Restored, versions: Versions
) -> tuple[tuple[str, str], list[Problem]]:
    """What was replayed (English, Chinese) and each cell or passage that differs."""
    inspection_id, _, label = str(written.subject).removeprefix("inspection:").partition("/")
    with ledger.session() as session:
        bundle = versions.at(session, ledger.bundle.campaign.id, written.at)
        report = gather_report(session, bundle, inspection_id, label, written.at)
    again = ledger.scratch / "inspections" / path.name
    again.parent.mkdir(exist_ok=True)
    at = moment(written, bundle.campaign.zone)
    what = (f"round {inspection_id} {label} as of {at}", f"督查“{inspection_id}”第 {label} 轮"
            f"（截至 {at}）")  # fmt: skip
    if path.suffix.lower() == ".html":
        templates = bag_templates(ledger.bag)
        assert templates is not None  # the replay offers a page only with the templates
        return what, check_page(path, relative, templates,
                                lambda env: render_bulletin(report, env).html)  # fmt: skip
    if path.suffix.lower() == ".docx":
        write_bulletin_docx(report, again)
        return what, compare_documents(path, again, relative)
    write_inspection_summary(report, again)
    return what, compare_workbooks(path, again, relative)
