"""The collect use case: read a batch from the source, record and decide it, answer, mark done.

Order matters for "nothing lost, nothing twice": the batch is recorded and decided (committed),
then its answers are recorded as intents (committed, each keyed by its intake record and with
its Message-ID), and only then is the source told its items are done; the answers are sent
after that (``take_batch``, then ``send_answers``), by the command line while it reads the next
batch (``implement.commands``). A crash before the items are done leaves them in the source,
and the next run finds their rows and finishes the job; a crash after it leaves their answers
in the ledger, pending, which the next run sends (below).

But the next run may come while the killed run's claim on an answer still holds (``dispatch``:
``CLAIM_WINDOW``, 15 minutes): a collect every five minutes from cron does. That run leaves the
answer to its claimant and marks the item done, so no later run would ever fetch the item, or
draft its answer, again: the answer stayed 'sending' for good, and was lost if the kill came
before the server took it (found by ``tests/test_crash_sending.py``). So a collect also sends
the answers the ledger still owes (``answer_owed``): those a killed run left claimed, once the
claim has expired, and those pending or failed (retried as a second mobilize retries a failed
notice; the connection may have broken while this very step was sending them, after their
items were done), from the ledger alone, under the same key and Message-ID, as ``dispatch``
would claim them.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.sources.model import RawItem, Source
from duban.implement.intake.answers import (
    ANSWER_PREFIX,
    AnswerContext,
    answer_drafts,
    answered_intake,
)
from duban.implement.intake.pipeline import BatchReport, Intake, process_batch
from duban.ledger.schema import MessageRow
from duban.selfcheck.lists import record_problem_lists
from duban.sending.dispatch import (
    CLAIM_WINDOW,
    RETRY,
    SENDING,
    Draft,
    record_intents,
    send_recorded,
)
from duban.sending.dispatch import Outcome as SendOutcome

RACE_RETRIES = 3


@dataclass
class CollectReport:
    batch: BatchReport
    answers: list[SendOutcome]

    @property
    def empty(self) -> bool:
        return self.batch.received == 0


@dataclass
class Taken:
    """A batch recorded and decided, its answers' intents recorded and its items done: the
    answers, to be sent (``send_answers``)."""

    batch: BatchReport
    answers: list[Draft]


def collect_batch(
    session: Session,
    intake: Intake,
    source: Source,
    mailer: Mailer,
    env: Environment,
    *,
    limit: int,
) -> CollectReport:
    """A batch taken and answered, and then the answers the ledger still owes."""
    taken = take_batch(session, intake, source, env, limit=limit)
    answers = send_answers(session, intake, mailer, taken.answers)
    return CollectReport(taken.batch, answers + answer_owed(session, intake, mailer, env))


def take_batch(
    session: Session, intake: Intake, source: Source, env: Environment, *, limit: int
) -> Taken:
    """Read up to ``limit`` items, record and decide them, record their answers, then mark
    them done in the source (see the module docstring)."""
    items = list(source.fetch(limit))
    if not items:
        _record_lists(session, intake)
        return Taken(BatchReport(), [])
    report = _process_racing(session, intake, items)
    _record_lists(session, intake)
    answers = _answers_recorded(session, intake, env, report.intake_ids)
    source.done_many([item.ref for item in items])
    return Taken(report, answers)


def _record_lists(session: Session, intake: Intake) -> None:
    """Problem lists accepted so far become rectification items; on an empty batch too, so a
    run killed between accepting a list and recording it is made good by the next run."""
    record_problem_lists(session, intake.bundle, intake.clock)
    session.commit()


def _process_racing(session: Session, intake: Intake, items: list[RawItem]) -> BatchReport:
    """Process a batch; if another worker recorded the same items at the same moment, the
    ledger's unique keys ((source, ref), (intake, index), (instance, version)) refuse the second
    record, and the batch is simply processed again: it then finds the other worker's rows."""
    for attempt in range(RACE_RETRIES + 1):
        try:
            return process_batch(session, intake, items)
        except IntegrityError:
            session.rollback()
            if attempt == RACE_RETRIES:
                raise
    raise AssertionError("unreachable")


def _answers_recorded(
    session: Session, intake: Intake, env: Environment, intake_ids: list[int]
) -> list[Draft]:
    """The answers to these records, their intents recorded and committed."""
    ctx = AnswerContext(intake.bundle, intake.secret, env, intake.clock.now())
    drafts = answer_drafts(session, ctx, intake_ids)
    domain = str(intake.bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    record_intents(session, drafts, intake.clock, domain)
    session.commit()
    return drafts


def send_answers(
    session: Session, intake: Intake, mailer: Mailer, drafts: list[Draft]
) -> list[SendOutcome]:
    """Send recorded answers not sent before (claimed first, so each goes once)."""
    return send_recorded(session, drafts, mailer, intake.clock)


def answer_owed(
    session: Session, intake: Intake, mailer: Mailer, env: Environment
) -> list[SendOutcome]:
    """Send this campaign's answers that ``dispatch`` would claim now (pending, failed, or left
    'sending' by a killed run whose claim has expired): their items may be done, so only the
    ledger still knows of them (see the module docstring). ``dispatch`` claims each again
    first, so a run that got there before this one wins."""
    expired = intake.clock.now() - CLAIM_WINDOW
    keys = session.scalars(
        select(MessageRow.idempotency_key).where(
            MessageRow.campaign_id == intake.bundle.campaign.id,
            MessageRow.idempotency_key.startswith(ANSWER_PREFIX, autoescape=True),
            or_(
                MessageRow.status.in_(RETRY),
                and_(MessageRow.status == SENDING, MessageRow.claimed_at < expired),
            ),
        )
    ).all()
    if not keys:
        return []
    drafts = _answers_recorded(session, intake, env, [answered_intake(key) for key in keys])
    return send_answers(session, intake, mailer, drafts)
