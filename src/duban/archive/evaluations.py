"""An evaluation's bulletin and per-unit score sheets in the bag, written again and compared.

``evaluate.commands.write_outputs`` writes a version's bulletin (考核通报-LABEL-STAGE.docx,
``bulletin-…``) and publication writes each unit's score sheet (得分说明-LABEL-STAGE/得分说明-
UNIT.xlsx, ``score-sheets-…/score-sheet-…``) from the version's report
(``evaluate.report.version_report``), whose moment is the version's own (its computation, or
its freeze for the final one), not the clock's. So the replay makes that report from the result
it recomputed (``archive.replay``) and the campaign files of the version, writes the file again
with the same writer, and compares the bulletin by its text (``archive.documents``) and the
score sheet cell by cell (``archive.cells``). A ``v<n>`` file of a version frozen since was
written before the freeze: its report is the preliminary one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from duban.archive.cells import compare_workbooks
from duban.archive.documents import compare_documents
from duban.archive.pages import check_page
from duban.errors import Problem
from duban.evaluate.bulletin import render_bulletin, write_bulletin_docx
from duban.evaluate.commands import score_sheet_name, sheets_folder
from duban.evaluate.evaluation import Evaluation
from duban.evaluate.report import EvaluationReport, version_report
from duban.evaluate.workbook import write_score_sheet
from duban.ledger.schema import EvaluationRow
from duban.model.loader import CampaignBundle

BULLETIN = re.compile(r"^(?:考核通报|bulletin)-(?P<label>.+)-(?P<stage>v\d+|final)\.(?:docx|html)$")
SHEETS = re.compile(r"^(?:得分说明|score-sheets)-(?P<label>.+)-(?P<stage>v\d+|final)$")


@dataclass(frozen=True)
class Version:
    """One evaluation version as the replay recomputed it."""

    row: EvaluationRow
    bundle: CampaignBundle
    result: Evaluation


def named_version(path: Path, pages: bool = True) -> tuple[str, str] | None:
    """(label, stage) of an evaluation bulletin (its page as mailed too, with ``pages``) or
    score sheet, by its name; None: neither."""
    if (match := BULLETIN.match(path.name)) and (pages or path.suffix.lower() == ".docx"):
        return match["label"], match["stage"]
    if path.suffix.lower() == ".xlsx" and (match := SHEETS.match(path.parent.name)):
        return match["label"], match["stage"]
    return None


def check_evaluation_output(
    path: Path,
    relative: str,
    version: Version,
    stage: str,
    scratch: Path,
    templates: Path | None = None,
) -> list[Problem]:
    """Each passage or cell of the bulletin or score sheet that differs; each line of the
    bulletin's page as mailed, rendered again with the bag's ``templates``."""
    report = report_at(version, stage)
    if path.suffix.lower() == ".html" and templates is not None:
        return check_page(path, relative, templates, lambda env: render_bulletin(report, env).html)
    again = scratch / "evaluation" / path.name
    again.parent.mkdir(exist_ok=True)
    if BULLETIN.match(path.name):
        write_bulletin_docx(report, again)
        return compare_documents(path, again, relative)
    if path.parent.name != sheets_folder(report, stage):
        return [Problem(relative, "not in the folder the version's score sheets are written to",
                        "不在该版本得分说明所在的文件夹中")]  # fmt: skip
    units = [p.unit_id for p in report.evaluation.placings]
    unit = next((u for u in units if score_sheet_name(report, u) == path.name), None)
    if unit is None:
        return [Problem(relative, "no unit the version ranks has a score sheet of this name",
                        "该版本没有名为此文件的单位得分说明")]  # fmt: skip
    write_score_sheet(report, unit, again)
    return compare_workbooks(path, again, relative)


def report_at(version: Version, stage: str) -> EvaluationReport:
    """The report the file was written from: a ``v<n>`` file's is the preliminary one."""
    report = version_report(version.bundle, version.row, version.result)
    if stage != "final" and report.final:
        return replace(report, final=False, moment=version.row.computed_at)
    return report
