"""What every page and action shares: the board of the request, who is signed in, the
rendering of a page (autoescaped, in the campaign's language), and the guards.

A page asked without a session is redirected to the login page; an action without a session,
without its CSRF token or beyond the user's role is refused with 403 and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from duban.adapters.render import default_templates
from duban.board.accounts import Account, account
from duban.board.context import Board
from duban.board.signin import COOKIE, MAX_AGE_SECONDS, BoardSession, token_matches
from duban.board.words import CELLS, names_for, words_for
from duban.model.loader import CampaignBundle


class SignInFirst(Exception):  # noqa: N818  (a redirect, not an error)
    """Raised by a page asked without a session; the app answers with the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@cache
def pages() -> Environment:
    """The board's templates (``templates/board``), every value escaped as HTML."""
    return Environment(
        loader=FileSystemLoader(str(default_templates() / "board")),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def board_of(request: Request) -> Board:
    board: Board = request.app.state.board
    return board


def session_of(request: Request) -> BoardSession:
    """The request's session, read once (and a fresh CSRF token for a first visit)."""
    if not hasattr(request.state, "board_session"):
        request.state.board_session = board_of(request).cookies.load(request.cookies.get(COOKIE))
    session: BoardSession = request.state.board_session
    return session


def user_of(request: Request) -> Account:
    """The signed-in account, looked up again (a disabled account is signed out now)."""
    session = session_of(request)
    if session.user is not None:
        with board_of(request).session() as db:
            found = account(db, session.user)
        if found is not None:
            return found
    if request.method == "GET":
        raise SignInFirst(str(request.url.path) + (f"?{request.url.query}" if request.url.query
                                                   else ""))  # fmt: skip
    raise HTTPException(403, "sign in first")


def may_act(request: Request, user: Account, given_token: str | None) -> None:
    """An action needs its form's CSRF token and a role that changes things."""
    if not token_matches(session_of(request), given_token):
        raise HTTPException(403, _word(request, "bad_form"))
    if not user.may_act:
        raise HTTPException(403, _word(request, "forbidden"))


@dataclass(frozen=True)
class Acting:
    """Who acts on which campaign of which board: what every coordinator's action starts with."""

    user: Account
    bundle: CampaignBundle
    board: Board


def coordinator_acting(request: Request, campaign_id: str, given_token: str | None) -> Acting:
    """A coordinator's action: signed in, the form's token, the coordinator's role, a campaign
    of this board; anything else is refused before the use case is reached."""
    user = user_of(request)
    may_act(request, user, given_token)
    must_coordinate(request, user)
    return Acting(user, campaign_of(request, campaign_id), board_of(request))


def must_coordinate(request: Request, user: Account) -> None:
    if not user.coordinates:
        raise HTTPException(403, _word(request, "forbidden"))


def campaign_of(request: Request, campaign_id: str) -> CampaignBundle:
    bundle = board_of(request).bundle(campaign_id)
    if bundle is None:
        raise HTTPException(404, f"{_word(request, 'not_found')}: {campaign_id}")
    return bundle


def _word(request: Request, key: str) -> str:
    return words_for(board_of(request).language)(key)


@dataclass(frozen=True)
class Page:
    """A page to render: its template and what it shows."""

    template: str
    values: dict[str, Any]


def render(
    request: Request, page: Page, *, bundle: CampaignBundle | None = None, status: int = 200
) -> Response:
    board = board_of(request)
    session = session_of(request)
    language = bundle.campaign.language if bundle is not None else board.language
    flash, session.flash = session.flash, None
    user = session.user
    values = {
        "t": words_for(language), "named": names_for(language), "cells": list(CELLS),
        "lang": language, "csrf": session.csrf, "flash": flash, "user_name": user, "bundle": bundle,
        "campaigns": board.bundles, "quote": quote, **page.values,
    }  # fmt: skip
    html = pages().get_template(page.template).render(values)
    response = HTMLResponse(html, status_code=status)
    keep(request, response)
    return response


def keep(request: Request, response: Response) -> None:
    """Write the (possibly changed) session back as the signed cookie."""
    board = board_of(request)
    response.set_cookie(
        COOKIE, board.cookies.dump(session_of(request)), max_age=MAX_AGE_SECONDS,
        httponly=True, samesite="lax", secure=board.secure_cookies, path="/",
    )  # fmt: skip


def back(request: Request, url: str, flash: str | None = None) -> Response:
    """After an action: say what happened on the next page (post, redirect, get)."""
    if flash is not None:
        session_of(request).flash = flash
    response = RedirectResponse(url, status_code=303)
    keep(request, response)
    return response
