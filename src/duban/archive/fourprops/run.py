"""Run the four properties' checks; file the report in a bag; compare a filed one with a run.

``file_report`` runs after bagit wrote the manifests (the checks read them) and writes the
report as two tag files, then has bagit write the tag manifests again so they cover it.
``compare_report`` is what ``duban archive verify`` adds: the checks again, from the bag alone,
and a problem for each check whose result, item count or failed items differ from the filed
report's. Failures the filed report already records (a raw object the store lacked, a broken
workbook a unit sent) are no tampering: they are said in the report, not as problems.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import bagit

from duban import __version__
from duban.archive.digests import ALGORITHMS
from duban.archive.events import FILE as EVENTS
from duban.archive.events import read_events
from duban.archive.fourprops import authentic, complete, secure, usable
from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.model import JSON_FILE, PROPERTIES, TEXT_FILE, Check, Report, checks_of
from duban.archive.fourprops.text import render
from duban.archive.manifests import bag_info, check_manifests
from duban.errors import Problem


def view_of(bag: Path) -> BagView:
    """The bag read for the checks (hashes every listed file once, in both algorithms)."""
    return BagView(bag, bag_info(bag), check_manifests(bag),
                   read_events(bag / "data" / EVENTS, f"data/{EVENTS}"))  # fmt: skip


def run_checks(view: BagView) -> Report:
    found = {"authentic": authentic.checks(view), "complete": complete.checks(view),
             "usable": usable.checks(view), "secure": secure.checks(view)}  # fmt: skip
    return Report(view.info.get("External-Identifier", "?"), __version__, found)


def file_report(bag: Path) -> Report:
    """Run the checks on a bag bagit just made, write the report into it, re-seal its tags."""
    report = run_checks(view_of(bag))
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"
    (bag / JSON_FILE).write_text(text, encoding="utf-8")
    (bag / TEXT_FILE).write_text(render(report), encoding="utf-8")
    sealed = bagit.Bag(str(bag))
    sealed.algorithms = list(ALGORITHMS)  # bagit drops SM3 when it loads a bag: put it back
    sealed.save(processes=1, manifests=False)  # the tag manifests now cover the report
    return report


def compare_report(bag: Path, view: BagView) -> tuple[Report, list[Problem]]:
    """The checks run again, and a problem for each difference from the filed report."""
    report = run_checks(view)
    try:
        recorded = json.loads((bag / JSON_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return report, [
            Problem(
                JSON_FILE,
                "missing or not JSON: the four-properties report cannot be compared",
                "缺失或不是 JSON：无法比对四性检测报告",
            )
        ]
    filed = checks_of(recorded)
    problems: list[Problem] = []
    for prop, checks in report.checks.items():
        for check in checks:
            problems += _differences(prop, check, filed.pop((prop, check.key), None))
    for prop, key in filed:
        problems.append(_said(prop, key, JSON_FILE, "filed, but this duban does not run it",
                              "报告中有此项，但本版 duban 不运行它"))  # fmt: skip
    return report, problems


def _differences(prop: str, check: Check, filed: dict[str, Any] | None) -> list[Problem]:
    if filed is None:
        return [_said(prop, check.key, JSON_FILE, "not in the filed report", "报告中没有此项")]
    problems = []
    if filed.get("items") != check.items:
        problems.append(
            _said(
                prop,
                check.key,
                JSON_FILE,
                f"ran on {check.items} items, the report records {filed.get('items')}",
                f"本次检测 {check.items} 项，报告记载为 {filed.get('items')} 项",
            )
        )
    was = {str(f.get("item")) for f in filed.get("failures", [])}
    for failure in check.failures:
        if failure.item not in was:
            problems.append(_said(prop, check.key, failure.item,
                                  f"{failure.en}; the report records no failure here",
                                  f"{failure.zh}；报告记载此项通过"))  # fmt: skip
    now = {f.item for f in check.failures}
    for item in sorted(was - now):
        problems.append(_said(prop, check.key, item, "the report records a failure that does "
                              "not happen now", "报告记载此项未通过，本次检测却通过"))  # fmt: skip
    return problems


def _said(prop: str, key: str, where: str, en: str, zh: str) -> Problem:
    name_zh, name_en = PROPERTIES.get(prop, (prop, prop))
    return Problem(where, f"{name_zh} {name_en} ({key}): {en}", f"{name_zh}（{key}）：{zh}")
