"""Prefect task of the compile flow: one deliverable period's workbook and bulletin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.compile.gather import due_within
from duban.compile.outputs import compile_outputs, post_bulletin, send_bulletin
from duban.ledger.db import make_engine, session_scope
from duban.settings import Settings

from .bots import bot_sender
from .context import opened


@task(name="due-yesterday", cache_policy=NO_CACHE)
def just_due_task(settings: Settings, campaign_file: str) -> list[tuple[str, str]]:
    """Deliverable periods whose deadline passed in the last 24 hours."""
    with opened(settings, campaign_file) as o:
        return due_within(o.session, o.bundle, o.clock.now(), timedelta(days=1))


@task(name="compile", cache_policy=NO_CACHE)
def compile_task(
    settings: Settings, campaign_file: str, deliverable: str, period: str | None, send: bool
) -> dict[str, Any]:
    engine = make_engine(settings.ledger_url)
    with opened(settings, campaign_file) as o:
        bundle, clock, env = o.bundle, o.clock, o.env
    compiled = compile_outputs(engine, bundle, deliverable, period, as_of=clock.now(),
                               out=settings.outputs, env=env, clock=clock)  # fmt: skip
    sent = posted = 0
    if send:
        with session_scope(engine) as session, SmtpMailer(parse_smtp_url(settings.smtp())) as m:
            sent = sum(o.sent_now for o in send_bulletin(session, bundle, compiled, mailer=m,
                                                         clock=clock))  # fmt: skip
            with bot_sender(settings, clock) as (sender, specs):
                if sender is not None:
                    posted = len(post_bulletin(session, compiled, sender=sender, specs=specs,
                                               clock=clock))  # fmt: skip
    engine.dispose()
    t = compiled.data.totals
    return {
        "deliverable": deliverable, "period": compiled.data.period,
        "workbook": str(compiled.workbook), "html": str(compiled.html),
        "docx": str(compiled.docx), "detail_rows": compiled.stats.detail_rows,
        "expected": t.expected, "received": t.received, "on_time": t.on_time, "late": t.late,
        "missing": t.missing, "rejected": t.rejected, "sent": sent, "posted": posted,
        "bulletin_text": compiled.bulletin.text,
    }  # fmt: skip
