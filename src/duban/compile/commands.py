"""Compile as the CLI and the Prefect tasks run it, composed with a ``Runtime``.

``compile_periods`` compiles the named deliverable period, or (none named) each one whose
deadline passed in the last 24 hours; the compile flow runs it with its task as ``one``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from duban.compile.gather import due_within
from duban.compile.outputs import Compiled, compile_outputs, post_bulletin, send_bulletin

if TYPE_CHECKING:
    from duban.runtime import Runtime

CompileStep = Callable[[str, "str | None", bool], dict[str, Any]]


def just_due(rt: Runtime) -> list[tuple[str, str]]:
    """Deliverable periods whose deadline passed in the last 24 hours."""
    with rt.session() as session:
        return due_within(session, rt.bundle, rt.clock.now(), timedelta(days=1))


def compile_one(rt: Runtime, deliverable: str, period: str | None, send: bool) -> dict[str, Any]:
    """The summary workbook and bulletin of one deliverable period; sent when asked, as the
    coordinator reviewed them if nothing changed since (``duban.compile.reviewed``)."""
    compiled = compile_outputs(rt.engine, rt.bundle, deliverable, period, as_of=rt.clock.now(),
                               out=rt.settings.outputs, env=rt.env, clock=rt.clock,
                               reuse=send)  # fmt: skip
    sent = posted = 0
    if send:
        with rt.session() as session, rt.mailer() as mailer:
            outcomes = send_bulletin(session, rt.bundle, compiled, mailer=mailer, clock=rt.clock)
            sent = sum(o.sent_now for o in outcomes)
            with rt.bots() as bots:
                if bots is not None:
                    sender, specs = bots
                    posted = len(post_bulletin(session, compiled, sender=sender, specs=specs,
                                               clock=rt.clock, keep=rt.raw_store.put))  # fmt: skip
    t = compiled.data.totals
    return {
        "deliverable": deliverable, "period": compiled.data.period, "issue": compiled.issue,
        "workbook": str(compiled.workbook), "html": str(compiled.html),
        "docx": str(compiled.docx), "detail_rows": compiled.stats.detail_rows,
        "expected": t.expected, "received": t.received, "on_time": t.on_time, "late": t.late,
        "missing": t.missing, "rejected": t.rejected, "sent": sent, "posted": posted,
        "bulletin_text": compiled.bulletin.text,
        "reused": _local(compiled) if compiled.reused else None,
    }  # fmt: skip


def _local(compiled: Compiled) -> str:
    """When the files sent were written, on the campaign's clock."""
    return compiled.data.as_of.astimezone(compiled.data.zone).strftime("%Y-%m-%d %H:%M")


def compile_periods(
    rt: Runtime,
    deliverable: str | None = None,
    period: str | None = None,
    *,
    send: bool = False,
    one: CompileStep | None = None,
) -> list[dict[str, Any]]:
    if deliverable is not None:
        rt.bundle.campaign.deliverable(deliverable)  # a mistyped id is named, not "no period"
    step = one or (lambda d, p, s: compile_one(rt, d, p, s))
    targets: list[tuple[str, str | None]] = (
        [(deliverable, period)] if deliverable is not None else list(just_due(rt))
    )
    return [step(d, p, send) for d, p in targets]
