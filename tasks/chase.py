"""Prefect task of the chase flow: one run sends every rung due now over one SMTP connection."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.adapters.mail.mailer import OutboxMailer, SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.implement.chase import chase
from duban.settings import Settings

from .bots import bot_poster
from .context import opened


@task(name="chase", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def chase_task(
    settings: Settings, campaign_file: str, deliverable: str | None, dry_run: bool
) -> dict[str, Any]:
    with opened(settings, campaign_file) as o:
        as_of = o.clock.now()
        if dry_run:
            folder = settings.outbox / f"chase-{as_of:%Y%m%dT%H%M}"
            with OutboxMailer(folder) as mailer:
                report = chase(o.session, o.bundle, as_of=as_of, mailer=mailer, env=o.env,
                               secret=settings.secret_key(), clock=o.clock,
                               deliverable=deliverable, preview=folder)  # fmt: skip
            return {"office_open": report.office_open, "previewed": report.previewed,
                    "outbox": str(folder)}  # fmt: skip
        with (
            SmtpMailer(parse_smtp_url(settings.smtp())) as mailer,
            bot_poster(settings, o.clock, o.bundle) as post,
        ):
            report = chase(o.session, o.bundle, as_of=as_of, mailer=mailer, env=o.env,
                           secret=settings.secret_key(), clock=o.clock, post_bots=post,
                           deliverable=deliverable)  # fmt: skip
    sent = [m for m in report.unit_messages if m.sent_now]
    by_kind: dict[str, int] = {}
    for message in sent:
        kind = message.key.split(":")[1]
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return {
        "office_open": report.office_open,
        "sent_by_rung": by_kind,
        "escalations": sum(e.sent_now for e in report.escalations),
        "bot_posts": len(report.bot_posts),
    }
