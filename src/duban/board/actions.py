"""The board's actions (POST): the same use cases as ``duban review``, ``extend`` and ``exempt``,
called with the signed-in user as the actor, so each is an event naming them.

Every action checks the form's CSRF token and the user's role first; a ``DubanError`` from the
use case comes back as the page's message in the campaign's language, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from duban.board.context import Board
from duban.board.web import Acting, back, coordinator_acting
from duban.errors import DubanError
from duban.implement import review as rv
from duban.implement.duties import exempt, extend, find_duty
from duban.model.loader import CampaignBundle

router = APIRouter()
Token = Annotated[str, Form()]
Text = Annotated[str, Form()]


def acted(
    request: Request, campaign_id: str, csrf: str, url: str, act: Callable[[Acting], str]
) -> Response:
    """A coordinator's action (refused before ``act`` unless signed in, with the form's token
    and the role); come back to ``url`` saying what happened or why nothing did."""
    acting = coordinator_acting(request, campaign_id, csrf)
    try:
        said = act(acting)
    except DubanError as error:
        message, hint = error.said(acting.bundle.campaign.language)
        said = message + (f" — {hint}" if hint else "")
    return back(request, url, said)


@router.post("/c/{campaign_id}/held/{item}/accept")
def accept(
    request: Request,
    campaign_id: str,
    item: str,
    csrf: Token = "",
    unit: Text = "",
    deliverable: Text = "",
    period: Text = "",
    back_to: Text = "",
) -> Response:

    def act(a: Acting) -> str:
        with a.board.session() as db:
            verdict = _accept(a.board, db, a.bundle, item, a.user.name, unit, deliverable, period)
        return f"{rv.parse_item(item)}: {verdict}"

    return acted(request, campaign_id, csrf, _return(back_to, campaign_id), act)


def _accept(board: Board, db: Session, bundle: CampaignBundle, item: str, by: str,
            unit: str, deliverable: str, period: str) -> str:  # fmt: skip
    from duban.implement.intake.pipeline import Intake
    from duban.implement.intake.rawstore import RawStore
    from duban.implement.intake.reader import WorkbookReader

    settings = board.settings
    with WorkbookReader.for_campaign(bundle.campaign, workers=1) as reader:
        store = RawStore(settings.raw_store, settings.store_flush)
        intake = Intake(bundle, store, reader, settings.secret_key(), board.clock,
                        trusted_authserv=settings.trusted_authserv_ids)  # fmt: skip
        verdict = rv.accept_held(
            db, intake, item, by, unit_id=unit or None,
            deliverable_id=deliverable or None, period=period or None,
        )  # fmt: skip
    return f"{verdict.outcome.value} ({verdict.describe(bundle.campaign.language)})"


@router.post("/c/{campaign_id}/held/{item}/reject")
def reject(
    request: Request, campaign_id: str, item: str, csrf: Token = "", note: Text = "",
    back_to: Text = "",
) -> Response:  # fmt: skip
    """Reject a held file: the note goes to its sender, as ``duban review --reject`` sends it."""

    def act(a: Acting) -> str:
        _need(note)
        smtp = a.board.settings.smtp()  # the sender is told: a mail server before anything
        with a.board.session() as db:
            decision = rv.reject_held(db, a.bundle, a.board.clock, item, a.user.name, note)
            sent = _tell_sender(a.board, db, a.bundle, item, smtp)
        return f"{decision.item}: {decision.outcome} ({decision.said}){sent}"

    return acted(request, campaign_id, csrf, _return(back_to, campaign_id), act)


def _tell_sender(board: Board, db: Session, bundle: CampaignBundle, item: str, smtp: str) -> str:
    from duban.adapters.mail.mailer import SmtpMailer
    from duban.adapters.mail.smtp_url import parse_smtp_url
    from duban.adapters.render import environment

    settings = board.settings
    with SmtpMailer(parse_smtp_url(smtp)) as mailer:
        sent = rv.send_rejection(db, bundle, settings.secret_key(), board.clock, mailer,
                                 environment(settings.templates), item)  # fmt: skip
    if sent is None:
        return ""
    return f" → {', '.join(sent.recipients)}: {sent.status}"


@router.post("/c/{campaign_id}/held/{item}/dismiss")
def dismiss(
    request: Request, campaign_id: str, item: str, csrf: Token = "", note: Text = "",
    back_to: Text = "",
) -> Response:  # fmt: skip

    def act(a: Acting) -> str:
        _need(note)
        with a.board.session() as db:
            decision = rv.dismiss(db, a.bundle, a.board.clock, item, a.user.name, note)
        return f"{decision.item}: {decision.outcome} ({decision.said})"

    return acted(request, campaign_id, csrf, _return(back_to, campaign_id), act)


@router.post("/c/{campaign_id}/unit/{unit_id}/extend")
def extend_duty(
    request: Request, campaign_id: str, unit_id: str, csrf: Token = "", deliverable: Text = "",
    period: Text = "", to: Text = "", reason: Text = "",
) -> Response:  # fmt: skip

    def act(a: Acting) -> str:
        _need(reason)
        try:
            day = date.fromisoformat(to)
        except ValueError:
            raise DubanError(
                f"{to!r} is not a date", hint="write it as 2026-03-12",
                zh=f"{to!r} 不是有效日期", zh_hint="请写成 2026-03-12 这样",
            ) from None  # fmt: skip
        with a.board.session() as db:
            duty = find_duty(db, a.bundle, deliverable, unit_id, period or None)
            extend(db, a.bundle, duty, day, reason=reason, actor=a.user.name, clock=a.board.clock)
        return f"{unit_id} {deliverable} {duty.period}: → {day.isoformat()} ({reason})"

    return acted(request, campaign_id, csrf, f"/c/{campaign_id}/unit/{unit_id}", act)


@router.post("/c/{campaign_id}/unit/{unit_id}/exempt")
def exempt_duty(
    request: Request, campaign_id: str, unit_id: str, csrf: Token = "", deliverable: Text = "",
    period: Text = "", reason: Text = "",
) -> Response:  # fmt: skip

    def act(a: Acting) -> str:
        _need(reason)
        with a.board.session() as db:
            duty = find_duty(db, a.bundle, deliverable, unit_id, period or None)
            exempt(db, duty, reason=reason, actor=a.user.name, clock=a.board.clock)
        return f"{unit_id} {deliverable} {duty.period}: exempt ({reason})"

    return acted(request, campaign_id, csrf, f"/c/{campaign_id}/unit/{unit_id}", act)


def _need(reason: str) -> None:
    if not reason.strip():
        raise DubanError("say why: the reason is kept with the decision",
                         hint="fill in the reason", zh="请写明理由：理由随决定一并留存",
                         zh_hint="填写理由后再提交")  # fmt: skip


def _return(back_to: str, campaign_id: str) -> str:
    """Back to the page the form was on (a path of this campaign), else the held list."""
    prefix = f"/c/{campaign_id}/"
    return back_to if back_to.startswith(prefix) and ".." not in back_to else prefix + "held"
