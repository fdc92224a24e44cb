"""The coordinator's evaluation commands as the CLI and the flows run them, composed with a
``Runtime``: each opens one session and calls one step of ``runs``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from duban.evaluate import runs
from duban.evaluate.runs import Computed, Correction, Verdict

if TYPE_CHECKING:
    from duban.runtime import Runtime


def default_label(rt: Runtime) -> str:
    """An evaluation is named by its year unless told otherwise: the clock's local year."""
    return str(rt.clock.now().astimezone(rt.bundle.campaign.zone).year)


def compute(
    rt: Runtime,
    label: str | None = None,
    *,
    closes_at: datetime | None = None,
    seed: str | None = None,
    actor: str = "coordinator",
) -> Computed:
    with rt.session() as session:
        return runs.compute(session, rt.bundle, label or default_label(rt), rt.clock, actor,
                            closes_at=closes_at, seed=seed)  # fmt: skip


@dataclass(frozen=True)
class Lodged:
    appeal_id: int
    new: bool


def appeal(
    rt: Runtime, unit_id: str, line: str, statement: str, label: str | None = None
) -> Lodged:
    with rt.session() as session:
        row, new = runs.lodge_appeal(session, rt.bundle, label or default_label(rt), unit_id,
                                     line, statement, rt.clock)  # fmt: skip
        return Lodged(row.id, new)


@dataclass(frozen=True)
class Decided:
    appeal_id: int
    state: str
    version: int | None
    """The version computed with the correction (an upheld appeal), else None."""


def decide(
    rt: Runtime,
    appeal_id: int,
    reason: str,
    *,
    correction: tuple[str, Decimal] | None = None,
    label: str | None = None,
    actor: str = "coordinator",
) -> Decided:
    fix = None if correction is None else Correction(*correction)
    with rt.session() as session:
        row, computed = runs.decide_appeal(session, rt.bundle, label or default_label(rt),
                                           appeal_id, reason, rt.clock, actor, fix)  # fmt: skip
        return Decided(row.id, row.state, None if computed is None else computed.row.version)


def freeze(rt: Runtime, label: str | None = None, actor: str = "coordinator") -> tuple[int, bool]:
    with rt.session() as session:
        row, now = runs.freeze(session, rt.bundle, label or default_label(rt), rt.clock, actor)
        return row.version, now


def verify(rt: Runtime, label: str | None = None) -> Verdict:
    with rt.session() as session:
        return runs.verify(session, rt.bundle, label or default_label(rt))


@dataclass(frozen=True)
class Status:
    label: str
    versions: list[tuple[int, str, datetime, datetime, str, str]]
    """Each version: number, state, computed at, close, seed, result hash."""
    appeals: list[tuple[int, str, str, str, str | None]]
    """Each appeal: number, unit, line, state, decision."""


def status(rt: Runtime, label: str | None = None) -> Status:
    name = label or default_label(rt)
    with rt.session() as session:
        versions = [(r.version, r.state, r.computed_at, r.closes_at, r.seed, r.result_digest)
                    for r in runs.runs_of(session, rt.bundle.campaign.id, name)]  # fmt: skip
        appeals = [(a.id, a.unit_id, a.line, a.state, a.decision)
                   for a in runs.appeals_of(session, rt.bundle.campaign.id, name)]  # fmt: skip
    return Status(name, versions, appeals)
