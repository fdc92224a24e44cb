"""The collect use case: read a batch from the source, record and decide it, answer, mark done.

Order matters for "nothing lost, nothing twice": the batch is recorded and decided (committed)
before any answer is sent, answers are keyed by their intake record, and the source is told an
item is done only after all of that. A crash anywhere leaves the item in the source; the next
run finds its rows and finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.sources.model import RawItem, Source
from duban.implement.intake.answers import AnswerContext, answer_drafts
from duban.implement.intake.pipeline import BatchReport, Intake, process_batch
from duban.sending.dispatch import Outcome as SendOutcome
from duban.sending.dispatch import dispatch

RACE_RETRIES = 3


@dataclass
class CollectReport:
    batch: BatchReport
    answers: list[SendOutcome]

    @property
    def empty(self) -> bool:
        return self.batch.received == 0


def collect_batch(
    session: Session,
    intake: Intake,
    source: Source,
    mailer: Mailer,
    env: Environment,
    *,
    limit: int,
) -> CollectReport:
    items = list(source.fetch(limit))
    if not items:
        return CollectReport(BatchReport(), [])
    report = _process_racing(session, intake, items)
    answers = send_answers(session, intake, mailer, env, report.intake_ids)
    source.done_many([item.ref for item in items])
    return CollectReport(report, answers)


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


def send_answers(
    session: Session, intake: Intake, mailer: Mailer, env: Environment, intake_ids: list[int]
) -> list[SendOutcome]:
    ctx = AnswerContext(intake.bundle, intake.secret, env, intake.clock.now())
    drafts = answer_drafts(session, ctx, intake_ids)
    domain = str(intake.bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    return dispatch(session, drafts, mailer, intake.clock, message_id_domain=domain)
