"""The coordinator's evaluation commands as the CLI runs them, composed with a ``Runtime``:
each opens one session and calls one step (``ballot_send`` for the ballots)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from duban.clock import parse_moment
from duban.errors import DubanError
from duban.evaluate.ballot_send import (
    BallotSendReport,
    default_label,
    public_evaluation,
    send_ballots,
)
from duban.implement.duties import end_of_day

if TYPE_CHECKING:
    from duban.runtime import Runtime


def ballots(rt: Runtime, source_id: str, label: str | None, closes: str | None) -> BallotSendReport:
    """Send each evaluator of the register their ballot for the round, once; ``closes`` (an
    ISO date, the whole day counting, or a local time) is needed the first time."""
    bundle = rt.bundle
    public_evaluation(bundle, source_id)  # a mistyped source is named before anything opens
    round_label = label or default_label(bundle, rt.clock.now())
    with rt.session() as session, rt.mailer() as mailer:
        return send_ballots(
            session, bundle, source_id, round_label, closes=close_of(rt, closes),
            mailer=mailer, clock=rt.clock, secret=rt.secret, env=rt.env,
        )  # fmt: skip


def close_of(rt: Runtime, text: str | None) -> datetime | None:
    """``--closes``: a bare date closes at the end of that day, as a due day does; a time is
    local to the campaign unless it carries an offset."""
    if text is None:
        return None
    try:
        if len(text.strip()) == 10:
            return end_of_day(date.fromisoformat(text.strip()), rt.bundle)
        return parse_moment(text, rt.bundle.campaign.zone)
    except ValueError:
        raise DubanError(
            f"--closes: {text!r} is not a date or time",
            hint="write 2026-12-18 (the whole day counts) or 2026-12-18T17:30",
            zh=f"--closes：{text!r} 不是有效的日期或时间",
            zh_hint="请写成 2026-12-18（当天24:00截止）或 2026-12-18T17:30",
        ) from None
