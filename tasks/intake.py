"""Prefect tasks of the collect flow: one task per batch of received items."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.sources import open_source
from duban.implement.collect import collect_batch
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.settings import Settings

from .context import opened


@task(name="collect-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def collect_batch_task(settings: Settings, campaign_file: str, limit: int) -> dict[str, Any]:
    """Fetch up to ``limit`` items, record, decide and answer them, then mark them done."""
    smtp = parse_smtp_url(settings.smtp())
    source = open_source(settings.intake_spec())
    try:
        with opened(settings, campaign_file) as o:
            reader = WorkbookReader.for_campaign(o.bundle.campaign)
            with reader, SmtpMailer(smtp) as mailer:
                intake = Intake(
                    o.bundle,
                    RawStore(settings.raw_store, settings.store_flush),
                    reader,
                    settings.secret_key(),
                    o.clock,
                )
                report = collect_batch(o.session, intake, source, mailer, o.env, limit=limit)
    finally:
        source.close()
    answered = sum(a.sent_now for a in report.answers)
    return {"received": report.batch.received, "outcomes": report.batch.outcomes,
            "answered": answered}  # fmt: skip
