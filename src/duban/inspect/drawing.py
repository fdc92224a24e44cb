"""The coordinator's steps of a round: commit, draw, approve, recuse, verify.

Each step runs in one transaction under the round's write lock (``hold_write_lock``), so two
runs at once (cron and a manual run, two coordinators) take turns: the second finds what the
first wrote. One seed per commitment: a commitment already drawn refuses another seed, and
drawing again needs a new commitment with its reason, recorded beside the old one, so nobody
can try seeds until one suits. The seed as typed and the result's digest also go into the
event log, which the database keeps append-only: ``verify`` compares the ledger's record with
it as well as recomputing the draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.errors import DubanError
from duban.inspect import rounds
from duban.inspect.commitment import commit
from duban.inspect.draw import Draw, draw, recuse
from duban.inspect.inputs import Overrides, fresh_inputs
from duban.inspect.rounds import APPROVED, COMMITTED, DRAWN, NOTIFIED
from duban.inspect.verify import Verdict, verify, with_logged
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import (
    EventRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
    InspectionRoundRow,
)
from duban.ledger.store import append_event
from duban.model.inspections import InspectionSpec
from duban.model.loader import CampaignBundle

DRAW_EVENTS = ("inspection.drawn", "inspection.recused")
_START, _START_ZH = "start one with `duban inspect draw`", "请先用 `duban inspect draw` 抽取"


@dataclass(frozen=True)
class RoundRequest:
    """One round as the coordinator asks for it (the flow's and the CLI's parameters)."""

    inspection_id: str
    label: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    announced: bool | None = None
    reason: str | None = None
    actor: str = "coordinator"


@dataclass(frozen=True)
class Committed:
    label: str
    attempt: int
    commitment_id: str
    already: bool


@dataclass(frozen=True)
class Drawn:
    label: str
    result: Draw
    already: bool
    drawn_at: datetime


class RoundError(DubanError):
    """A step the round's state does not allow, in words that say what to do instead."""


def commit_round(
    session: Session, bundle: CampaignBundle, request: RoundRequest, clock: Clock
) -> Committed:
    """Record the commitment of a round (creating the round), before any seed is known."""
    spec = bundle.campaign.inspection(request.inspection_id)
    round_row = _round(session, bundle, spec, request, clock)
    latest = rounds.latest_commitment(session, round_row.id)
    attempt = 1 if latest is None else latest.seq + 1
    inputs = fresh_inputs(
        session, bundle, spec, label=round_row.label, attempt=attempt,
        previous=rounds.previous_assignments(
            session, bundle.campaign.id, spec.id, round_row.id
        ),
        overrides=request.overrides, as_of=clock.now(),
    )  # fmt: skip
    if latest is not None:
        _check_recommit(session, round_row, latest, request)
    commitment = commit(inputs)
    rounds.add_commitment(
        session, round_row, inputs, commitment,
        reason=request.reason, at=clock.now(), actor=request.actor,
    )  # fmt: skip
    round_row.state = COMMITTED
    append_event(
        session, clock, "inspection.committed", campaign_id=bundle.campaign.id,
        subject=_subject(round_row), actor=request.actor,
        payload={"commitment": commitment.id, "attempt": attempt, "reason": request.reason,
                 "units": commitment.units, "inspectors": commitment.inspectors,
                 "previous": commitment.previous},
    )  # fmt: skip
    return Committed(round_row.label, attempt, commitment.id, already=False)


def ensure_committed(
    session: Session, bundle: CampaignBundle, request: RoundRequest, clock: Clock
) -> Committed:
    """The round's latest commitment, recorded now if it has none: the first step of the flow,
    which runs again from the top each time it resumes."""
    spec = bundle.campaign.inspection(request.inspection_id)
    round_row = _round(session, bundle, spec, request, clock)
    latest = rounds.latest_commitment(session, round_row.id)
    if latest is None:
        return commit_round(session, bundle, request, clock)
    return Committed(round_row.label, latest.seq, latest.digest, already=True)


def draw_round(
    session: Session, bundle: CampaignBundle, request: RoundRequest, seed: str, clock: Clock
) -> Drawn:
    """Draw the round's latest commitment with ``seed`` (committing first when the round has
    no commitment yet); the same seed again is answered with the draw already made."""
    seed = seed.strip()
    if not seed:
        raise RoundError(
            "a draw needs a seed",
            hint="give --seed (typed, or a public number such as a lottery result)",
            zh="抽取需要随机种子", zh_hint="请用 --seed 给出（现场输入，或公开的彩票开奖号码等）",
        )  # fmt: skip
    spec = bundle.campaign.inspection(request.inspection_id)
    round_row = _round(session, bundle, spec, request, clock)
    latest = rounds.latest_commitment(session, round_row.id)
    if latest is None:
        commit_round(session, bundle, request, clock)
        latest = rounds.latest_commitment(session, round_row.id)
        assert latest is not None
    done = rounds.draw_of(session, latest.id)
    if done is not None:
        return _drawn_before(round_row, latest, done, seed)
    result = draw(rounds.inputs_of(round_row, latest), seed)
    at = clock.now()
    rounds.add_draw(session, latest, result, at, request.actor)
    round_row.state = DRAWN
    _draw_event(session, clock, bundle, round_row, "inspection.drawn", result, request.actor)
    return Drawn(round_row.label, result, already=False, drawn_at=at)


def approve_round(
    session: Session,
    bundle: CampaignBundle,
    inspection_id: str,
    label: str | None,
    clock: Clock,
    actor: str = "coordinator",
) -> tuple[InspectionRoundRow, bool]:
    """The coordinator has seen the draw: its assignments are written and may be notified.
    Returns the round and whether it had been approved before (nothing written now)."""
    round_row, _, done, result = current_draw(session, bundle, inspection_id, label)
    if round_row.state in (APPROVED, NOTIFIED):
        return round_row, True
    rounds.write_assignments(session, round_row, result, rounds.strata_of(result))
    round_row.state, round_row.approved_at, round_row.approved_by = APPROVED, clock.now(), actor
    append_event(
        session, clock, "inspection.approved", campaign_id=bundle.campaign.id,
        subject=_subject(round_row), actor=actor,
        payload={"result": done.result_digest, "units": list(result.units)},
    )  # fmt: skip
    return round_row, False


def recuse_inspector(
    session: Session,
    bundle: CampaignBundle,
    inspection_id: str,
    label: str | None,
    unit_id: str,
    inspector_id: str,
    *,
    note: str,
    clock: Clock,
    actor: str = "coordinator",
) -> Draw:
    """One inspector stands down from one unit (申请回避), replaced by the next eligible one of
    that unit's order; nobody else's assignment moves. Recorded in the draw and the log."""
    round_row, latest, done, result = current_draw(session, bundle, inspection_id, label)
    if round_row.state == NOTIFIED:
        raise RoundError(
            f"round {round_row.label} was notified already; its teams are fixed",
            zh=f"第 {round_row.label} 轮已通知，检查组不能再调整",
        )
    if not note.strip():
        raise RoundError("a recusal needs its reason", hint="give --reason",
                         zh="回避须写明理由", zh_hint="请用 --reason 写明")  # fmt: skip
    changed = recuse(result, rounds.inputs_of(round_row, latest), unit_id, inspector_id, note)
    done.result, done.result_digest = changed.as_json(), changed.hash
    if round_row.state == APPROVED:
        rounds.write_assignments(session, round_row, changed, rounds.strata_of(changed))
    _draw_event(session, clock, bundle, round_row, "inspection.recused", changed, actor,
                unit=unit_id, inspector=inspector_id, note=note)  # fmt: skip
    return changed


def verify_round(
    session: Session, bundle: CampaignBundle, inspection_id: str, label: str | None
) -> Verdict:
    """Recompute the round's draw from what the ledger recorded (registers, parameters, seed,
    recusals) and compare: the record, the commitment, the seed, the result, and the digest
    the append-only event log kept."""
    round_row, latest, done = _drawn_rows(session, bundle, inspection_id, label)
    verdict = verify(
        rounds.inputs_of(round_row, latest), rounds.record_bytes(done),
        seed=done.seed, recorded_hash=done.result_digest,
    )  # fmt: skip
    logged = _logged_digest(session, bundle.campaign.id, _subject(round_row))
    return verdict if logged is None else with_logged(verdict, logged, done.result_digest)


def current_draw(
    session: Session, bundle: CampaignBundle, inspection_id: str, label: str | None
) -> tuple[InspectionRoundRow, InspectionCommitmentRow, InspectionDrawRow, Draw]:
    """The round, its latest commitment, its draw row and the draw as recorded (recusals
    replayed): what approve, recuse and the publication page start from."""
    round_row, latest, done = _drawn_rows(session, bundle, inspection_id, label)
    verdict = verify(rounds.inputs_of(round_row, latest), rounds.record_bytes(done))
    if verdict.recomputed is None or not verdict.matches:
        raise RoundError(
            f"the recorded draw of round {round_row.label} does not match its inputs",
            hint=f"run `duban inspect verify … {inspection_id} --round {round_row.label}`",
            zh=f"第 {round_row.label} 轮记录的抽取结果与其输入不符",
            zh_hint=f"请运行 `duban inspect verify … {inspection_id} --round {round_row.label}`",
        )
    return round_row, latest, done, verdict.recomputed


def find_round_or_fail(
    session: Session, bundle: CampaignBundle, inspection_id: str, label: str | None
) -> InspectionRoundRow:
    """The named round, or the inspection's latest when no label is given."""
    spec = bundle.campaign.inspection(inspection_id)
    found = rounds.rounds_of(session, bundle.campaign.id, spec.id)
    if label is not None:
        found = [r for r in found if r.label == label]
    if not found:
        known = [r.label for r in rounds.rounds_of(session, bundle.campaign.id, spec.id)]
        raise RoundError(
            f"no round {label or ''} of inspection {spec.id} yet".replace("  ", " "),
            hint=f"rounds: {', '.join(known)}" if known else "start one with `duban inspect draw`",
            zh=f"督查“{spec.id}”还没有{'第 ' + label + ' ' if label else ''}轮次",
            zh_hint=f"已有轮次：{'、'.join(known)}"
            if known
            else "请先用 `duban inspect draw` 抽取",
        )
    return found[-1]


def _drawn_rows(
    session: Session, bundle: CampaignBundle, inspection_id: str, label: str | None
) -> tuple[InspectionRoundRow, InspectionCommitmentRow, InspectionDrawRow]:
    round_row = find_round_or_fail(session, bundle, inspection_id, label)
    latest = rounds.latest_commitment(session, round_row.id)
    done = None if latest is None else rounds.draw_of(session, latest.id)
    if latest is None or done is None:
        raise RoundError(
            f"round {round_row.label} of {inspection_id} is committed but not drawn yet",
            hint=f"draw it: `duban inspect draw … {inspection_id} --round {round_row.label} "
            "--seed …`",
            zh=f"督查“{inspection_id}”第 {round_row.label} 轮已承诺，尚未抽取",
            zh_hint=f"请抽取：`duban inspect draw … {inspection_id} --round {round_row.label} "
            "--seed …`",
        )
    return round_row, latest, done


def _round(
    session: Session,
    bundle: CampaignBundle,
    spec: InspectionSpec,
    request: RoundRequest,
    clock: Clock,
) -> InspectionRoundRow:
    """The round asked for, under its write lock; created (committed, no commitment yet)."""
    now = clock.now()
    label = request.label or rounds.default_label(spec, now.astimezone(bundle.campaign.zone).date())
    hold_write_lock(session.connection(), f"inspect:{bundle.campaign.id}:{spec.id}:{label}")
    found = rounds.find_round(session, bundle.campaign.id, spec.id, label)
    if found is not None:
        return found
    row = InspectionRoundRow(
        campaign_id=bundle.campaign.id, inspection_id=spec.id, label=label, state=COMMITTED,
        announced=spec.announced if request.announced is None else request.announced,
        created_at=now, created_by=request.actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _check_recommit(
    session: Session,
    round_row: InspectionRoundRow,
    latest: InspectionCommitmentRow,
    request: RoundRequest,
) -> None:
    if round_row.state in (APPROVED, NOTIFIED):
        raise RoundError(
            f"round {round_row.label} is {round_row.state}: its draw stands",
            hint="start another round with --round LABEL",
            zh=f"第 {round_row.label} 轮已{rounds.STATE_ZH[round_row.state]}，抽取结果不能再改",
            zh_hint="如需另行抽取，请用 --round 新建一轮",
        )
    if not (request.reason or "").strip():
        drawn = rounds.draw_of(session, latest.id) is not None
        raise RoundError(
            f"round {round_row.label} has commitment {latest.seq} already"
            + (" (drawn)" if drawn else " (not drawn yet)"),
            hint="a new commitment needs --reason (it is recorded and published beside the "
            "first)" + ("" if drawn else "; or draw this one: `duban inspect draw … --seed`"),
            zh=f"第 {round_row.label} 轮已有第 {latest.seq} 次承诺"
            + ("（已抽取）" if drawn else "（尚未抽取）"),
            zh_hint="重新承诺须用 --reason 写明理由（理由将与前次一并记录、公开）"
            + ("" if drawn else "；或直接抽取本次承诺：`duban inspect draw … --seed`"),
        )


def _drawn_before(
    round_row: InspectionRoundRow,
    latest: InspectionCommitmentRow,
    done: InspectionDrawRow,
    seed: str,
) -> Drawn:
    if done.seed != seed:
        raise RoundError(
            f"commitment {latest.seq} of round {round_row.label} was drawn with seed "
            f"{done.seed!r}; one seed per commitment",
            hint="to draw again, commit again with its reason: "
            f"`duban inspect commit … {round_row.inspection_id} --round {round_row.label} "
            "--reason …`",
            zh=f"第 {round_row.label} 轮第 {latest.seq} 次承诺已用种子“{done.seed}”抽取；"
            "每次承诺只能用一个种子",
            zh_hint="如需重抽，请先写明理由重新承诺："
            f"`duban inspect commit … {round_row.inspection_id} --round {round_row.label} "
            "--reason …`",
        )
    verdict = verify(rounds.inputs_of(round_row, latest), rounds.record_bytes(done))
    assert verdict.recomputed is not None
    return Drawn(round_row.label, verdict.recomputed, already=True, drawn_at=done.drawn_at)


def _draw_event(
    session: Session,
    clock: Clock,
    bundle: CampaignBundle,
    round_row: InspectionRoundRow,
    kind: str,
    result: Draw,
    actor: str,
    **extra: str,
) -> None:
    append_event(
        session, clock, kind, campaign_id=bundle.campaign.id, subject=_subject(round_row),
        actor=actor,
        payload={"commitment": result.commitment.id, "seed": result.seed,
                 "result": result.hash, "units": list(result.units), **extra},
    )  # fmt: skip


def _logged_digest(session: Session, campaign_id: str, subject: str) -> str | None:
    payload = session.scalar(
        select(EventRow.payload)
        .where(
            EventRow.campaign_id == campaign_id,
            EventRow.subject == subject,
            EventRow.kind.in_(DRAW_EVENTS),
        )
        .order_by(EventRow.id.desc())
        .limit(1)
    )
    return None if payload is None else str(payload.get("result"))


def _subject(round_row: InspectionRoundRow) -> str:
    return f"inspection:{round_row.inspection_id}/{round_row.label}"
