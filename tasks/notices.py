"""Prefect tasks of the mobilize flow: thin adapters around ``duban.mobilize.send``."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.mobilize.send import (
    NoticePlan,
    NoticeRequest,
    approve_notices,
    plan_notices,
    preview_notices,
    send_notices,
)
from duban.sending.dispatch import Outcome
from duban.settings import Settings

from .context import opened


@task(name="plan-notices", cache_policy=NO_CACHE)
def plan_notices_task(settings: Settings, campaign_file: str, request: NoticeRequest) -> NoticePlan:
    with opened(settings, campaign_file) as o:
        return plan_notices(
            o.session, o.bundle, request, clock=o.clock, secret=settings.secret_key(), env=o.env
        )


@task(name="preview-notices", cache_policy=NO_CACHE)
def preview_notices_task(settings: Settings, campaign_file: str, plan: NoticePlan) -> str:
    with opened(settings, campaign_file) as o:
        folder = preview_notices(
            o.session, o.bundle, plan, outbox=settings.outbox, clock=o.clock,
            secret=settings.secret_key(), env=o.env,
        )  # fmt: skip
    return str(folder)


@task(name="send-notices", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def send_notices_task(
    settings: Settings, campaign_file: str, instance_ids: list[int]
) -> list[Outcome]:
    """One batch of units over one SMTP connection (one task per batch, not per unit)."""
    config = parse_smtp_url(settings.smtp())
    with opened(settings, campaign_file) as o, SmtpMailer(config) as mailer:
        return send_notices(
            o.session, o.bundle, instance_ids, mailer=mailer, clock=o.clock,
            secret=settings.secret_key(), env=o.env,
        )  # fmt: skip


@task(name="approve-notices", cache_policy=NO_CACHE)
def approve_notices_task(
    settings: Settings, campaign_file: str, plan: NoticePlan, actor: str
) -> None:
    with opened(settings, campaign_file) as o:
        approve_notices(o.session, plan, clock=o.clock, actor=actor)
