"""Collect, chase and remind as the CLI and the Prefect tasks run them, composed with a
``Runtime``.

``collect`` takes batches until the source is empty (or ``max_batches``); the collect flow runs
the same function with its Prefect task as ``batch``. ``chase`` is one step: every rung due now,
over one SMTP connection, escalations to the bots through ledger intents. ``remind`` plans the
on-demand reminders, then sends them a batch of units at a time (the remind flow passes its
Prefect task as ``send_batch``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from duban.adapters.forked import Later, later
from duban.adapters.mail.mailer import OutboxMailer
from duban.implement.chase import chase as chase_now
from duban.implement.collect import answer_owed, collect_batch, send_answers, take_batch
from duban.implement.remind import RemindRequest, plan_reminders, send_reminders
from duban.sending.batching import Progress, in_batches
from duban.sending.dispatch import Draft, Outcome

if TYPE_CHECKING:
    from duban.implement.intake.pipeline import Intake
    from duban.runtime import Runtime

BATCH_SIZE = 200
MAX_BATCHES = 50
CollectStep = Callable[[int], dict[str, Any]]
RemindStep = Callable[[list[int]], list[Outcome]]


def collect_one(rt: Runtime, limit: int) -> dict[str, Any]:
    """Fetch up to ``limit`` items, record, decide and answer them, then mark them done: the
    collect flow's task, which builds its own edges, as it may run in another process."""
    with _collecting(rt) as step:
        return step(limit)


@contextmanager
def _collecting(rt: Runtime) -> Iterator[CollectStep]:
    """A batch step over one mailbox session and one pair of reader workers, kept for every
    batch of the run (starting a pool a batch cost seconds at 10,000 replies). Each batch is
    taken under the mailbox's lock, so a second run at once waits for this batch and then
    reads what is left, instead of recording the same messages at the same moment; on a
    ledger session of its own; and answered over an SMTP connection of its own, as a server
    drops one left idle while this run waits for the lock."""
    with rt.source() as source, rt.intake() as intake:

        def step(limit: int) -> dict[str, Any]:
            with (
                rt.mailer() as mailer,
                rt.session() as session,
                rt.exclusive(f"intake:{source.name}"),
            ):
                report = collect_batch(session, intake, source, mailer, rt.env, limit=limit)
            return {"received": report.batch.received, "outcomes": report.batch.outcomes,
                    "answered": sum(a.sent_now for a in report.answers)}  # fmt: skip

        yield step


def collect(
    rt: Runtime,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
    batch: CollectStep | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Collect what units sent until the source is empty; the totals. ``batch``: the flow's
    task; without it, the batches share this run's edges, and each batch's answers are sent
    while the next is read (``_answering_meanwhile``)."""
    if batch is not None:
        return _collect_all(batch, batch_size, max_batches, progress)
    return _answering_meanwhile(rt, batch_size, max_batches, progress)


def _collect_all(
    step: CollectStep, batch_size: int, max_batches: int, progress: Progress | None
) -> dict[str, Any]:
    totals: dict[str, Any] = {"received": 0, "answered": 0, "outcomes": {}}
    for _ in range(max_batches):
        taken = step(batch_size)
        if taken["received"] == 0:
            break
        _add(totals, taken["received"], taken["outcomes"], progress)
        totals["answered"] += taken["answered"]
    return totals


def _add(
    totals: dict[str, Any], received: int, outcomes: dict[str, int], progress: Progress | None
) -> None:
    totals["received"] += received
    for outcome, count in outcomes.items():
        totals["outcomes"][outcome] = totals["outcomes"].get(outcome, 0) + count
    if progress is not None:
        progress(totals["received"], None)


def _answering_meanwhile(
    rt: Runtime, batch_size: int, max_batches: int, progress: Progress | None
) -> dict[str, Any]:
    """The command line's collect: each batch is taken (read, recorded, decided, its answers
    recorded, its items done) under the mailbox's lock, and its answers are sent by a forked
    process (``adapters.forked``) while this one takes the next batch, so the readers and the
    SMTP connection work at once. One batch's answers are sent at a time: the next batch's
    wait for them. Then the answers the ledger still owes (``answer_owed``)."""
    totals: dict[str, Any] = {"received": 0, "answered": 0, "outcomes": {}}
    with rt.source() as source, rt.intake() as intake:
        sending: Later[int] | None = None
        try:
            for _ in range(max_batches):
                with rt.session() as session, rt.exclusive(f"intake:{source.name}"):
                    taken = take_batch(session, intake, source, rt.env, limit=batch_size)
                totals["answered"] += _answered(sending)
                sending = (
                    later(partial(_send, rt, intake, taken.answers)) if taken.answers else None
                )
                if taken.batch.received == 0:
                    break
                _add(totals, taken.batch.received, taken.batch.outcomes, progress)
        finally:
            totals["answered"] += _answered(sending)
        with rt.mailer() as mailer, rt.session() as session:
            owed = answer_owed(session, intake, mailer, rt.env)
    totals["answered"] += sum(a.sent_now for a in owed)
    return totals


def _send(rt: Runtime, intake: Intake, drafts: list[Draft]) -> int:
    """Send a batch's recorded answers (in the forked process: on a ledger engine of its own,
    ``Runtime.forked``); how many went now."""
    rt.forked()
    with rt.mailer() as mailer, rt.session() as session:
        return sum(a.sent_now for a in send_answers(session, intake, mailer, drafts))


def _answered(sending: Later[int] | None) -> int:
    return 0 if sending is None else sending.result()


def chase(rt: Runtime, *, deliverable: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Send (or, with ``dry_run``, write to the outbox) every rung of the ladder due now."""
    as_of = rt.clock.now()
    if dry_run:
        folder = rt.settings.outbox / f"chase-{as_of:%Y%m%dT%H%M}"
        with rt.session() as session, OutboxMailer(folder) as mailer:
            report = chase_now(session, rt.bundle, as_of=as_of, mailer=mailer, env=rt.env,
                               secret=rt.secret, clock=rt.clock, deliverable=deliverable,
                               preview=folder)  # fmt: skip
        return {"office_open": report.office_open, "previewed": report.previewed,
                "outbox": str(folder)}  # fmt: skip
    with rt.session() as session, rt.mailer() as mailer, rt.bot_poster() as post:
        report = chase_now(session, rt.bundle, as_of=as_of, mailer=mailer, env=rt.env,
                           secret=rt.secret, clock=rt.clock, post_bots=post,
                           deliverable=deliverable)  # fmt: skip
    return {
        "office_open": report.office_open,
        "sent_by_rung": report.sent_by_rung(),
        "items_named": report.items_named(),
        "escalations": sum(e.sent_now for e in report.escalations),
        "bot_posts": len(report.bot_posts),
        "lead_copies": sum(c.sent_now for c in report.lead_copies),
    }


def remind_batch(rt: Runtime, instance_ids: list[int], by: str) -> list[Outcome]:
    """Remind one batch of duties now, over one SMTP connection."""
    with rt.session() as session, rt.mailer() as mailer:
        return send_reminders(session, rt.bundle, instance_ids, by=by, mailer=mailer,
                              clock=rt.clock, env=rt.env, secret=rt.secret)  # fmt: skip


def remind(
    rt: Runtime,
    request: RemindRequest,
    *,
    batch_size: int = BATCH_SIZE,
    send_batch: RemindStep | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Remind now the chosen units that still owe (at most once a unit, period and day)."""
    with rt.session() as session:
        plan = plan_reminders(session, rt.bundle, request, as_of=rt.clock.now())
    step = send_batch or (lambda ids: remind_batch(rt, ids, request.by))
    outcomes = in_batches(plan.owed, batch_size, step, progress)
    return {
        "deliverable": plan.deliverable_id, "period": plan.period, "day": plan.day.isoformat(),
        "owed": len(plan.owed), "settled": len(plan.settled),
        "sent_now": sum(o.sent_now for o in outcomes),
        "already": sum(not o.sent_now and o.status in ("sent", "partial") for o in outcomes),
        "undelivered": {o.key: o.error or o.status for o in outcomes
                        if not o.sent_now and o.status not in ("sent", "partial")},
        "outcomes": outcomes,
    }  # fmt: skip
