"""Re-checking a recorded draw: recompute it from the registers, the previous round, the
parameters and the seed, and say which part differs, in words a coordinator reads.

- The record itself: its hash, and its commitment id against its own commitment (the record
  was edited after it was recorded).
- The commitment: each register's hash, the previous round's, the parameters, the names and
  the algorithm against the record's; a difference means that input changed after the
  commitment (a register row edited, added or removed; the rule changed).
- The seed: the seed given (the published one) against the recorded one.
- The result: the draw recomputed with that seed, with the recorded recusals replayed, against
  the recorded units, teams and log; a difference with the same inputs and seed means the
  result was altered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from duban.inspect.commitment import DrawInputs, commit
from duban.inspect.draw import Draw, RecusalError, draw, recuse
from duban.inspect.registers import compact_json, digest
from duban.model.campaign import Language

Part = Literal["record", "commitment", "seed", "result"]

INPUTS: dict[str, tuple[str, str]] = {
    "units": ("the unit register", "单位名录"),
    "inspectors": ("the inspector register", "检查人员名录"),
    "previous": ("the previous round's assignments", "上一轮检查安排"),
    "parameters": ("the sample rule", "抽取规则"),
    "algorithm": ("the algorithm version", "算法版本"),
    "inspection": ("the inspection", "检查事项"),
    "round": ("the round", "轮次"),
    "attempt": ("the attempt number", "抽取次数"),
}


@dataclass(frozen=True)
class Finding:
    part: Part
    en: str
    zh: str

    def said(self, language: Language) -> str:
        return self.zh if language == "zh-CN" else self.en


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]
    recomputed: Draw | None
    """The draw as recomputed from the inputs, if the record could be read."""

    @property
    def matches(self) -> bool:
        return not self.findings

    def parts(self) -> set[Part]:
        return {finding.part for finding in self.findings}

    def said(self, language: Language) -> list[str]:
        """A headline, then one line per difference."""
        if self.matches and self.recomputed is not None:
            done = self.recomputed
            if language == "zh-CN":
                head = (
                    f"核验一致：承诺 {done.commitment.id[:12]}，种子“{done.seed}”，重新计算得到"
                    f"相同的 {len(done.units)} 个单位和检查组"
                )
            else:
                head = (
                    f"The draw matches: commitment {done.commitment.id[:12]}, seed "
                    f"{done.seed!r}, the same {len(done.units)} units and teams recomputed"
                )
            return [head]
        head = "核验不一致：" if language == "zh-CN" else "The draw does NOT match:"
        return [head, *(f"- {finding.said(language)}" for finding in self.findings)]


def verify(
    inputs: DrawInputs,
    recorded: bytes | str,
    *,
    seed: str | None = None,
    recorded_hash: str | None = None,
) -> Verdict:
    """Recompute the draw ``recorded`` (its canonical JSON, as ``Draw.canonical_json`` wrote
    it) from ``inputs`` and ``seed`` (the published seed; the recorded one if None)."""
    data = recorded.encode() if isinstance(recorded, str) else recorded
    findings: list[Finding] = []
    if recorded_hash is not None and digest(data) != recorded_hash:
        findings.append(_finding("record", "hash", got=digest(data)[:12], want=recorded_hash[:12]))
    try:
        record: dict[str, Any] = json.loads(data)
        stated = record["commitment"]
        recorded_seed = str(record["seed"])
    except (ValueError, KeyError, TypeError):
        return Verdict((*findings, _finding("record", "unreadable")), None)
    if digest(compact_json(stated).encode()) != record.get("commitment_id"):
        findings.append(_finding("record", "commitment-id"))
    findings.extend(_commitment(stated, inputs))
    given = recorded_seed if seed is None else seed
    if given != recorded_seed:
        findings.append(_finding("seed", "seed", got=given, want=recorded_seed))
    recomputed, replay = _replay(inputs, given, record.get("recusals"))
    findings.extend(replay)
    findings.extend(_result(record, recomputed.as_json()))
    return Verdict(tuple(findings), recomputed)


def _commitment(stated: Mapping[str, Any], inputs: DrawInputs) -> list[Finding]:
    now = commit(inputs).as_json()
    found = []
    for key, value in now.items():
        if stated.get(key) == value:
            continue
        if key == "parameters" and isinstance(stated.get(key), dict) and isinstance(value, dict):
            names = [name for name in value if stated[key].get(name) != value[name]]
            detail = ", ".join(f"{n}: {stated[key].get(n)} → {value[n]}" for n in names)
        else:
            detail = f"{_short(stated.get(key))} → {_short(value)}"
        en, zh = INPUTS[key]
        found.append(_finding("commitment", "input", what=en, what_zh=zh, detail=detail))
    return found


def _replay(inputs: DrawInputs, seed: str, recusals: object) -> tuple[Draw, list[Finding]]:
    """The draw, then the recorded declared recusals in their order."""
    result = draw(inputs, seed)
    found = []
    rows = recusals if isinstance(recusals, list) else []
    declared = [r for r in rows if isinstance(r, dict) and r.get("reason") == "declared"]
    for entry in declared:
        unit, inspector = str(entry.get("unit")), str(entry.get("inspector"))
        try:
            result = recuse(result, inputs, unit, inspector, str(entry.get("note", "")))
        except RecusalError:
            found.append(_finding("result", "replay", unit=unit, inspector=inspector))
    return result, found


def _result(record: Mapping[str, Any], now: Mapping[str, Any]) -> list[Finding]:
    found = []
    for stratum, was, comes in _paired(record.get("picks"), now["picks"], "stratum", "units"):
        found.append(_finding("result", "picks", stratum=stratum, was=was, now=comes))
    for unit, was, comes in _paired(record.get("teams"), now["teams"], "unit", "inspectors"):
        found.append(_finding("result", "team", unit=unit, was=was, now=comes))
    if not found and record.get("recusals") != now["recusals"]:
        found.append(_finding("result", "log"))
    if found:
        found.insert(0, _finding("result", "result"))
    return found


def _paired(
    recorded: object, now: Sequence[Mapping[str, Any]], key: str, members: str
) -> list[tuple[str, list[str], list[str]]]:
    """(name, recorded members, recomputed members) wherever the two differ."""
    was = {
        str(row.get(key)): [str(m) for m in row.get(members) or []]
        for row in (recorded if isinstance(recorded, list) else [])
        if isinstance(row, dict)
    }
    comes = {str(row[key]): list(row[members]) for row in now}
    names = [*comes, *(name for name in was if name not in comes)]
    return [(n, was.get(n, []), comes.get(n, [])) for n in names if was.get(n) != comes.get(n)]


def _short(value: object) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) == 64 else text


WORDS: dict[str, tuple[str, str]] = {
    "hash": (
        "the record was changed after it was recorded: its hash is {got}…, recorded {want}…",
        "抽取记录在记录后被改动：其哈希为 {got}…，记录的是 {want}…",
    ),
    "unreadable": (
        "the record is not a draw duban wrote (not its JSON)",
        "抽取记录不是 duban 写下的抽取结果（格式不对）",
    ),
    "commitment-id": (
        "the record's commitment id is not the hash of its commitment: the record was edited",
        "记录中的承诺编号与其承诺内容的哈希不符：记录被改动过",
    ),
    "input": (
        "{what} is not the one committed to ({detail}): it changed after the commitment",
        "{what_zh}与承诺时不一致（{detail}）：承诺之后被改动过",
    ),
    "seed": (
        "the seed given ({got!r}) is not the seed recorded ({want!r})",
        "给出的种子“{got}”与记录的种子“{want}”不一致",
    ),
    "replay": (
        "the recorded recusal of {inspector} from {unit} cannot be replayed",
        "记录中“{inspector}”对“{unit}”的回避无法重现",
    ),
    "result": (
        "the result does not follow from the seed and the registers: recomputed, it differs",
        "抽取结果与种子和名录重新计算的结果不一致",
    ),
    "picks": (
        "stratum {stratum}: recorded {was}, recomputed {now}",
        "“{stratum}”类：记录为 {was}，重新计算为 {now}",
    ),
    "team": (
        "team of {unit}: recorded {was}, recomputed {now}",
        "“{unit}”的检查组：记录为 {was}，重新计算为 {now}",
    ),
    "event-log": (
        "the ledger's record (result {got}…) is not the one the event log kept ({want}…): it "
        "was changed after it was drawn",
        "台账中的抽取记录（结果 {got}…）与事件日志保存的（{want}…）不一致：抽取之后被改动过",
    ),
    "log": (
        "the log of recusals differs from the recomputed one",
        "回避记录与重新计算的不一致",
    ),
}


def with_logged(verdict: Verdict, logged: str, recorded: str) -> Verdict:
    """``verdict`` with one more finding when the event log kept another result digest than
    the record holds (the log is append-only: the record is what changed)."""
    if logged == recorded:
        return verdict
    found = _finding("record", "event-log", got=recorded[:12], want=logged[:12])
    return Verdict((*verdict.findings, found), verdict.recomputed)


def _finding(part: Part, code: str, **detail: Any) -> Finding:
    en, zh = WORDS[code]
    listed = {k: ", ".join(v) if isinstance(v, list) else v for k, v in detail.items()}
    listed_zh = {k: "、".join(v) if isinstance(v, list) else v for k, v in detail.items()}
    return Finding(part, en.format(**listed), zh.format(**listed_zh))
