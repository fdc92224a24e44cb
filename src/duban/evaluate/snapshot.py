"""The figures an evaluation read and the result it gave, as canonical JSON with their hashes.

An evaluation keeps what it read (every unit's figure for every source, with the evidence)
so that its result can be recomputed from the ledger alone, and checked: gathering the ledger
again as of the same close must give the same inputs hash, and computing from the inputs the
same result hash. Decimals are written as their text (``"0.75"``, never a float), JSON keys
sorted, no spaces, non-ASCII as is: the one spelling every hash is taken of.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from duban.evaluate.evaluation import Evaluation
from duban.evaluate.figures import Evidence, Figure

Figures = Mapping[str, Mapping[str, Figure]]


def canonical(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(value: object) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def figures_json(figures: Figures) -> dict[str, Any]:
    return {u: {s: _figure(f) for s, f in by_source.items()} for u, by_source in figures.items()}


def figures_from_json(data: Mapping[str, Any]) -> dict[str, dict[str, Figure]]:
    return {u: {s: _parsed(f) for s, f in by_source.items()} for u, by_source in data.items()}


def result_json(evaluation: Evaluation) -> dict[str, Any]:
    """What the evaluation decided, per unit: group, total, rank, flags and sheet lines."""
    return {
        sheet.unit_id: {
            "group": sheet.group_id, "total": str(sheet.total), "rank": sheet.rank,
            "of": sheet.of, "lines": sheet_lines(sheet.lines),
            **_placing_flags(evaluation, sheet.unit_id),
        }
        for sheet in evaluation.sheets
    }  # fmt: skip


def sheet_lines(lines: Any) -> list[dict[str, Any]]:
    return [
        {
            "source": line.source_id,
            "what": line.what,
            "subject": line.subject,
            "value": _text(line.value),
            "reason": line.reason,
            "facts": [list(f) for f in line.facts],
        }
        for line in lines
    ]


def _placing_flags(evaluation: Evaluation, unit_id: str) -> dict[str, Any]:
    placing = next(p for p in evaluation.placings if p.unit_id == unit_id)
    return {"flagged": placing.flagged, "exempt": placing.exempt,
            "commended": placing.commended, "decided_by": placing.decided_by}  # fmt: skip


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _figure(figure: Figure) -> dict[str, Any]:
    return {
        "raw": _text(figure.raw), "insufficient": figure.insufficient,
        "basis": [list(b) for b in figure.basis],
        "evidence": [
            {"kind": e.kind, "subject": e.subject, "points": _text(e.points),
             "reason": e.reason, "facts": [list(f) for f in e.facts]}
            for e in figure.evidence
        ],
    }  # fmt: skip


def _parsed(data: Mapping[str, Any]) -> Figure:
    evidence = tuple(
        Evidence(
            e["kind"],
            e["subject"],
            _number(e["points"]),
            e["reason"],
            tuple((str(k), str(v)) for k, v in e["facts"]),
        )
        for e in data["evidence"]
    )
    basis = tuple((str(k), str(v)) for k, v in data["basis"])
    return Figure(_number(data["raw"]), evidence, basis, bool(data["insufficient"]))
