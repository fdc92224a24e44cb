"""The report: four properties, each a list of checks, each with its items and failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from duban.errors import Problem

JSON_FILE = "four-properties.json"
TEXT_FILE = "四性检测报告.txt"
STANDARD = "DA/T 70-2018"
PROPERTIES = {
    "authentic": ("真实性", "authentic"),
    "complete": ("完整性", "complete"),
    "usable": ("可用性", "usable"),
    "secure": ("安全性", "secure"),
}
"""Key → (Chinese, English), in the standard's order."""


@dataclass(frozen=True)
class Failure:
    """One item a check found wrong: a file (its path in the bag), a line, an event, a row."""

    item: str
    en: str
    zh: str


@dataclass
class Check:
    """What ran (in both languages), on how many items, and the items that failed."""

    key: str
    zh: str
    en: str
    items: int = 0
    failures: list[Failure] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # e.g. files by format

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, item: str, en: str, zh: str) -> None:
        self.failures.append(Failure(item, en, zh))

    def said(self, problems: list[Problem]) -> None:
        """Each problem another check of the bag found, as a failure of this one."""
        for problem in problems:
            self.fail(problem.where, problem.message, problem.zh or problem.message)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


@dataclass
class Report:
    campaign_id: str
    version: str
    checks: dict[str, list[Check]]  # property key → its checks

    def passed(self, prop: str) -> bool:
        return all(c.passed for c in self.checks[prop])

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "四性检测报告 (four-properties report)",
            "standard": STANDARD,
            "campaign_id": self.campaign_id,
            "duban_version": self.version,
            "summary": {p: _result(self.passed(p)) for p in self.checks},
            "properties": [
                {"key": p, "zh": PROPERTIES[p][0], "en": PROPERTIES[p][1],
                 "result": _result(self.passed(p)),
                 "checks": [_check_json(c) for c in checks]}
                for p, checks in self.checks.items()
            ],
        }  # fmt: skip


def _result(passed: bool) -> str:
    return "pass" if passed else "fail"


def _check_json(check: Check) -> dict[str, Any]:
    return {
        "key": check.key, "zh": check.zh, "en": check.en, "items": check.items,
        "result": _result(check.passed), "counts": dict(sorted(check.counts.items())),
        "failures": [{"item": f.item, "en": f.en, "zh": f.zh} for f in check.failures],
    }  # fmt: skip


def checks_of(recorded: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A filed report's checks by (property, check), as read back from its JSON."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for prop in recorded.get("properties", []):
        for check in prop.get("checks", []):
            found[(str(prop.get("key")), str(check.get("key")))] = check
    return found
