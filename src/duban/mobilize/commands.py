"""Mobilize as the CLI and the Prefect tasks run it: each step composed with a ``Runtime``.

``mobilize`` is the whole command (plan; preview when it is a dry run or awaits approval;
otherwise send, a batch of units at a time). The mobilize flow runs the same function and
passes its Prefect task as ``send_batch``, so both ways in share one orchestration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from duban.mobilize.send import (
    NoticePlan,
    NoticeRequest,
    approve_notices,
    plan_notices,
    preview_notices,
    send_notices,
)
from duban.sending.batching import Progress, in_batches, ticking
from duban.sending.dispatch import Outcome

if TYPE_CHECKING:
    from duban.adapters.mail.mailer import Mailer
    from duban.runtime import Runtime

BATCH_SIZE = 200
SendBatch = Callable[[list[int]], list[Outcome]]


def plan(rt: Runtime, request: NoticeRequest) -> NoticePlan:
    with rt.session() as session:
        return plan_notices(
            session, rt.bundle, request, clock=rt.clock, secret=rt.secret, env=rt.env
        )


def preview(rt: Runtime, notice_plan: NoticePlan) -> Path:
    with rt.session() as session:
        return preview_notices(
            session, rt.bundle, notice_plan, outbox=rt.settings.outbox, clock=rt.clock,
            secret=rt.secret, env=rt.env,
        )  # fmt: skip


def send(rt: Runtime, instance_ids: list[int]) -> list[Outcome]:
    """One batch of units over an SMTP connection of its own (the flow's task)."""
    with rt.mailer() as mailer:
        return _send_over(rt, instance_ids, mailer)


def approve(rt: Runtime, request: NoticeRequest, actor: str) -> NoticePlan:
    notice_plan = plan(rt, request)
    with rt.session() as session:
        approve_notices(session, notice_plan, clock=rt.clock, actor=actor)
    return notice_plan


def mobilize(
    rt: Runtime,
    request: NoticeRequest,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    send_batch: SendBatch | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Send (or preview) the notices of one deliverable period; a summary of what happened."""
    notice_plan = plan(rt, request)
    if dry_run or not notice_plan.may_send:
        folder = preview(rt, notice_plan)
        state = "previewed" if dry_run else "awaiting-approval"
        return {"status": state, "count": len(notice_plan.instance_ids), "outbox": str(folder),
                "period": notice_plan.period, "digest": notice_plan.digest,
                "deliverable": notice_plan.deliverable_id, "outcomes": []}  # fmt: skip
    if send_batch is not None:  # the flow's task: a connection and a builder of its own
        outcomes = in_batches(notice_plan.instance_ids, batch_size, send_batch, progress)
        return summarise(outcomes, notice_plan)
    with rt.mailer() as mailer:
        outcomes = _send_over(rt, list(notice_plan.instance_ids), mailer, progress)
    return summarise(outcomes, notice_plan)


def _send_over(
    rt: Runtime, ids: list[int], mailer: Mailer, progress: Progress | None = None
) -> list[Outcome]:
    """Every notice in one dispatch over one connection, however many: the processes that build
    the messages ahead are forked once, with what they learn warm for the whole run. (The
    command line once sent a batch of 50 at a time for its progress bar: at 10,000 units that
    forked 400 builders, each with everything to learn again; bench/round, mobilize at 1,000
    units: builders 4.6 s of CPU, twice what building the same messages in one process takes.)
    """
    with rt.session() as session:
        return send_notices(
            session, rt.bundle, ids, mailer=mailer, clock=rt.clock, secret=rt.secret,
            env=rt.env, after_each=ticking(progress, len(ids)),
        )  # fmt: skip


def summarise(outcomes: list[Outcome], notice_plan: NoticePlan) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return {"status": "sent", "period": notice_plan.period, "count": len(outcomes),
            "sent_now": sum(o.sent_now for o in outcomes), "by_status": counts,
            "deliverable": notice_plan.deliverable_id, "outcomes": outcomes}  # fmt: skip
