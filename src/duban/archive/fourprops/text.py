"""The report for a person: 中文 first (archivists in China read it), then English."""

from __future__ import annotations

from duban.archive.fourprops.model import PROPERTIES, STANDARD, Check, Report

SHOWN = 50
"""Failures listed per check in the text (the JSON lists them all)."""


def render(report: Report) -> str:
    zh = [
        f"四性检测报告（{STANDARD}）",
        f"活动编号：{report.campaign_id}；检测软件：duban "
        f"{report.version}；以下检测均只依据本归档包本身，duban archive verify 会重新运行并比对。",
        "",
    ]
    en = ["Four-properties report (DA/T 70-2018: authentic, complete, usable, secure)",
          f"Campaign {report.campaign_id}; checked by duban {report.version}, from this bag "
          "alone; `duban archive verify` runs them again and compares.", ""]  # fmt: skip
    for prop, checks in report.checks.items():
        name_zh, name_en = PROPERTIES[prop]
        passed = report.passed(prop)
        zh.append(f"{name_zh}：{'通过' if passed else '未通过'}")
        en.append(f"{name_en.capitalize()} ({name_zh}): {'pass' if passed else 'FAIL'}")
        for check in checks:
            zh += _check(check, check.zh, "项", "通过", "未通过", "：")
            en += _check(check, check.en, "items", "pass", "FAIL", ": ")
        zh.append("")
        en.append("")
    return "\n".join([*zh, "", *en]) + "\n"


def _check(check: Check, what: str, items: str, ok: str, bad: str, colon: str) -> list[str]:
    result = ok if check.passed else f"{bad} ({len(check.failures)})"
    lines = [f"  - {what}{colon}{check.items} {items}, {result}"]
    if check.counts:
        lines.append("      " + "; ".join(f"{k}: {v}" for k, v in sorted(check.counts.items())))
    chinese = colon == "："
    for failure in check.failures[:SHOWN]:
        lines.append(f"      {failure.item}{colon}{failure.zh if chinese else failure.en}")
    if len(check.failures) > SHOWN:
        lines.append(f"      … {len(check.failures) - SHOWN} more in four-properties.json")
    return lines
