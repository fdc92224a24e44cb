"""An evaluation in the ledger: computed (preliminary, as often as needed), appealed, frozen.

``compute`` gathers every unit's figures as of the evaluation's close, applies the corrections
of upheld appeals, computes scores, ranks and score sheets, and records them as the next
version, with the inputs it read and both hashes. The close is given on the first computation
(default: the clock) and kept after; so is the seed of the ranking's draws (default: the
first 16 hex digits of the inputs' hash, a number nobody chose). Computing again with nothing
changed records nothing (two runs at once record one version: they take turns under the
evaluation's lock); the same figures scored by a changed campaign file (weights, groups,
ties) are a change too: a result is never shown as a version that holds another. A frozen
evaluation is never computed again.

``decide_appeal`` records the coordinator's decision on a unit's appeal (复核): rejected, with
the reason; or upheld, with the reason and the correction (the source's raw figure for the
unit), which this and every later computation applies, and the evaluation is computed again
at once, so the result changes only through the correction. ``freeze`` fixes the latest
version once no appeal is open. ``verify`` recomputes a version from the ledger and says
whether its inputs and its result give the recorded hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.errors import DubanError
from duban.evaluate.evaluation import Evaluation, evaluate
from duban.evaluate.figures import Evidence, Figure
from duban.evaluate.gather import gather_figures
from duban.evaluate.scores import unit_groups
from duban.evaluate.snapshot import (
    figures_from_json,
    figures_json,
    result_json,
    sha256,
    sheet_lines,
)
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import AppealRow, EvaluationRow, EvaluationScoreRow
from duban.ledger.store import append_event
from duban.model.loader import CampaignBundle

PRELIMINARY, FROZEN = "preliminary", "frozen"
OPEN, UPHELD, REJECTED = "open", "upheld", "rejected"


class EvaluationError(DubanError):
    """A step the evaluation's state does not allow, in words that say what to do instead."""


@dataclass(frozen=True)
class Computed:
    row: EvaluationRow
    evaluation: Evaluation
    new: bool


@dataclass(frozen=True)
class Correction:
    """What an upheld appeal changes: the unit's raw figure for one source, and why."""

    source_id: str
    raw: Decimal


def compute(
    session: Session,
    bundle: CampaignBundle,
    label: str,
    clock: Clock,
    actor: str,
    *,
    closes_at: datetime | None = None,
    seed: str | None = None,
) -> Computed:
    """Compute the evaluation and record it as the next version (see the module's docstring)."""
    campaign = bundle.campaign
    hold_write_lock(session.connection(), f"evaluation:{campaign.id}:{label}")
    latest = latest_run(session, campaign.id, label)
    if latest is not None and latest.state == FROZEN:
        raise _frozen(latest)
    closes = closes_at or (latest.closes_at if latest else clock.now())
    figures = _corrected(session, bundle, label, gather_figures(session, bundle, label, closes))
    inputs = figures_json(figures)
    inputs_digest = sha256(inputs)
    chosen = seed or (latest.seed if latest else inputs_digest[:16])
    result = _evaluate(bundle, figures, chosen)
    result_digest = sha256(result_json(result))
    if latest is not None and (
        latest.inputs_digest, latest.result_digest, latest.seed, latest.closes_at
    ) == (inputs_digest, result_digest, chosen, closes):  # fmt: skip
        return Computed(latest, result, new=False)
    row = EvaluationRow(
        campaign_id=campaign.id, label=label, version=(latest.version + 1) if latest else 1,
        state=PRELIMINARY, closes_at=closes, seed=chosen, inputs=inputs,
        inputs_digest=inputs_digest, result_digest=result_digest,
        computed_at=clock.now(), computed_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _add_scores(session, row, result)
    append_event(session, clock, "evaluation.computed", campaign_id=campaign.id,
                 subject=f"evaluation:{label}", actor=actor,
                 payload={"version": row.version, "inputs": inputs_digest,
                          "result": row.result_digest, "seed": chosen,
                          "closes_at": closes.isoformat()})  # fmt: skip
    return Computed(row, result, new=True)


def recomputed(bundle: CampaignBundle, row: EvaluationRow) -> Evaluation:
    """The evaluation a recorded version gives from the inputs it kept."""
    return _evaluate(bundle, figures_from_json(row.inputs), row.seed)


def _evaluate(
    bundle: CampaignBundle, figures: dict[str, dict[str, Figure]], seed: str
) -> Evaluation:
    scoring = bundle.campaign.scoring
    groups = unit_groups(scoring, bundle.units_by_id.values())
    return evaluate(scoring, groups, figures, seed)


def _add_scores(session: Session, row: EvaluationRow, result: Evaluation) -> None:
    placings = {p.unit_id: p for p in result.placings}
    for sheet in result.sheets:
        placing = placings[sheet.unit_id]
        session.add(EvaluationScoreRow(
            evaluation_id=row.id, campaign_id=row.campaign_id, unit_id=sheet.unit_id,
            group_id=sheet.group_id, total=sheet.total, rank=sheet.rank,
            flagged=placing.flagged, commended=placing.commended,
            lines=sheet_lines(sheet.lines),
        ))  # fmt: skip


def latest_run(session: Session, campaign_id: str, label: str) -> EvaluationRow | None:
    return session.scalar(
        select(EvaluationRow)
        .where(EvaluationRow.campaign_id == campaign_id, EvaluationRow.label == label)
        .order_by(EvaluationRow.version.desc())
        .limit(1)
    )


def runs_of(session: Session, campaign_id: str, label: str) -> list[EvaluationRow]:
    return list(
        session.scalars(
            select(EvaluationRow)
            .where(EvaluationRow.campaign_id == campaign_id, EvaluationRow.label == label)
            .order_by(EvaluationRow.version)
        )
    )


def latest_or_fail(session: Session, campaign_id: str, label: str) -> EvaluationRow:
    row = latest_run(session, campaign_id, label)
    if row is None:
        raise EvaluationError(
            f"evaluation {label} has not been computed yet",
            hint=f"run `duban evaluate compute CAMPAIGN.yaml --label {label}` first",
            zh=f"考核“{label}”尚未计算",
            zh_hint=f"请先运行 `duban evaluate compute … --label {label}`",
        )  # fmt: skip
    return row


def _frozen(row: EvaluationRow) -> EvaluationError:
    return EvaluationError(
        f"evaluation {row.label} was frozen at version {row.version}: it is not computed again",
        hint="`duban evaluate verify` recomputes it from the ledger to check it",
        zh=f"考核“{row.label}”已于第 {row.version} 版定稿，不再重新计算",
        zh_hint="可用 `duban evaluate verify` 根据台账复算核对",
    )


# ----------------------------------------------------------------------------- appeals


def _corrected(
    session: Session, bundle: CampaignBundle, label: str, figures: dict[str, dict[str, Figure]]
) -> dict[str, dict[str, Figure]]:
    """The figures with each upheld appeal's correction applied, in the order decided: the
    corrected raw figure, the evidence kept, a line saying which appeal changed it and why."""
    upheld = session.scalars(
        select(AppealRow)
        .where(AppealRow.campaign_id == bundle.campaign.id, AppealRow.label == label,
               AppealRow.state == UPHELD)
        .order_by(AppealRow.decided_at, AppealRow.id)
    )  # fmt: skip
    for appeal in upheld:
        fix = appeal.correction or {}
        source_id, raw = str(fix["source"]), Decimal(str(fix["raw"]))
        before = figures.get(appeal.unit_id, {}).get(source_id, Figure(None))
        line = Evidence("correction", appeal.line, raw, appeal.decision or "",
                        (("was", "" if before.raw is None else str(before.raw)),))  # fmt: skip
        figures.setdefault(appeal.unit_id, {})[source_id] = replace(
            before, raw=raw, evidence=(*before.evidence, line), insufficient=False
        )
    return figures


def lodge_appeal(
    session: Session,
    bundle: CampaignBundle,
    label: str,
    unit_id: str,
    line: str,
    statement: str,
    clock: Clock,
    *,
    received_at: datetime | None = None,
    intake_file_id: int | None = None,
) -> tuple[AppealRow, bool]:
    """Record a unit's appeal against one line of its score sheet (the same line again is the
    appeal already lodged); only a computed, unfrozen evaluation can be appealed.
    ``received_at``: when the unit's appeal arrived (a mailed form's message, read perhaps
    hours later), by default now, when the coordinator types it in; ``intake_file_id``: the
    stored form it came in, so the appeal leads back to the unit's own bytes."""
    campaign = bundle.campaign
    bundle.unit(unit_id)
    hold_write_lock(session.connection(), f"evaluation:{campaign.id}:{label}")
    latest = latest_or_fail(session, campaign.id, label)
    if latest.state == FROZEN:
        raise _frozen(latest)
    found = _appeal(session, campaign.id, label, unit_id, line)
    if found is not None:
        return found, False
    row = AppealRow(campaign_id=campaign.id, label=label, unit_id=unit_id, line=line,
                    statement=statement, received_at=received_at or clock.now(),
                    intake_file_id=intake_file_id, state=OPEN)  # fmt: skip
    session.add(row)
    session.flush()
    append_event(session, clock, "evaluation.appealed", campaign_id=campaign.id,
                 subject=f"evaluation:{label}", actor=unit_id,
                 payload={"appeal": row.id, "unit": unit_id, "line": line})  # fmt: skip
    return row, True


def decide_appeal(
    session: Session,
    bundle: CampaignBundle,
    label: str,
    appeal_id: int,
    decision: str,
    clock: Clock,
    actor: str,
    correction: Correction | None = None,
) -> tuple[AppealRow, Computed | None]:
    """Uphold (with ``correction``) or reject (without) an open appeal, with the reason
    ``decision``; an upheld appeal is applied by computing the evaluation again."""
    campaign = bundle.campaign
    hold_write_lock(session.connection(), f"evaluation:{campaign.id}:{label}")
    row = session.get(AppealRow, appeal_id)
    if row is None or row.campaign_id != campaign.id or row.label != label:
        raise _no_appeal(appeal_id, label)
    if row.state != OPEN:
        return row, None
    if correction is not None:
        bundle.campaign.scoring.source(correction.source_id)
    row.state = UPHELD if correction is not None else REJECTED
    row.decided_at, row.decided_by, row.decision = clock.now(), actor, decision
    row.correction = None if correction is None else {
        "source": correction.source_id, "raw": str(correction.raw)}  # fmt: skip
    append_event(session, clock, f"evaluation.appeal-{row.state}", campaign_id=campaign.id,
                 subject=f"evaluation:{label}", actor=actor,
                 payload={"appeal": row.id, "unit": row.unit_id, "line": row.line,
                          "decision": decision, "correction": row.correction})  # fmt: skip
    session.flush()
    if correction is None:
        return row, None
    return row, compute(session, bundle, label, clock, actor)


def _appeal(
    session: Session, campaign_id: str, label: str, unit_id: str, line: str
) -> AppealRow | None:
    return session.scalar(
        select(AppealRow).where(
            AppealRow.campaign_id == campaign_id, AppealRow.label == label,
            AppealRow.unit_id == unit_id, AppealRow.line == line,
        )
    )  # fmt: skip


def appeals_of(session: Session, campaign_id: str, label: str) -> list[AppealRow]:
    return list(
        session.scalars(
            select(AppealRow)
            .where(AppealRow.campaign_id == campaign_id, AppealRow.label == label)
            .order_by(AppealRow.id)
        )
    )


def _no_appeal(appeal_id: int, label: str) -> EvaluationError:
    return EvaluationError(
        f"no appeal A{appeal_id} against evaluation {label}",
        hint="`duban evaluate status` lists the appeals",
        zh=f"考核“{label}”没有编号为 A{appeal_id} 的复核申请",
        zh_hint="可用 `duban evaluate status` 查看复核申请",
    )


# ----------------------------------------------------------------------------- freezing


def freeze(
    session: Session, bundle: CampaignBundle, label: str, clock: Clock, actor: str
) -> tuple[EvaluationRow, bool]:
    """Fix the latest version (``False``: it already was); refused while an appeal is open."""
    campaign = bundle.campaign
    hold_write_lock(session.connection(), f"evaluation:{campaign.id}:{label}")
    row = latest_or_fail(session, campaign.id, label)
    if row.state == FROZEN:
        return row, False
    waiting = [a for a in appeals_of(session, campaign.id, label) if a.state == OPEN]
    if waiting:
        names = ", ".join(f"A{a.id} ({a.unit_id})" for a in waiting)
        raise EvaluationError(
            f"appeals still open: {names}", hint="decide each with `duban evaluate appeal`",
            zh=f"尚有复核申请未处理：{names}", zh_hint="请先用 `duban evaluate appeal` 逐一处理",
        )  # fmt: skip
    row.state, row.frozen_at, row.frozen_by = FROZEN, clock.now(), actor
    append_event(session, clock, "evaluation.frozen", campaign_id=campaign.id,
                 subject=f"evaluation:{label}", actor=actor,
                 payload={"version": row.version, "inputs": row.inputs_digest,
                          "result": row.result_digest})  # fmt: skip
    return row, True


@dataclass(frozen=True)
class Verdict:
    """A version recomputed: whether the ledger gives its inputs, and its inputs its result."""

    version: int
    inputs_match: bool
    result_match: bool

    @property
    def matches(self) -> bool:
        return self.inputs_match and self.result_match


def verify(session: Session, bundle: CampaignBundle, label: str) -> Verdict:
    row = latest_or_fail(session, bundle.campaign.id, label)
    figures = gather_figures(session, bundle, label, row.closes_at)
    inputs = figures_json(_corrected(session, bundle, label, figures))
    result = result_json(recomputed(bundle, row))
    return Verdict(row.version, sha256(inputs) == row.inputs_digest,
                   sha256(result) == row.result_digest)  # fmt: skip
