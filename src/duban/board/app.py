"""The board's web application: FastAPI, pages rendered on the server, no build step.

``create_app`` takes a ``Board`` (the web's composition root) and mounts the pages, actions
and downloads. A page asked without a session goes to the login page; errors are plain pages
in the board's language, never a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from duban.board import actions, downloads, pages, phases, runs
from duban.board.context import Board
from duban.board.web import Page, SignInFirst, back, render


def create_app(board: Board) -> FastAPI:
    app = FastAPI(title="duban board", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.board = board
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(downloads.router)
    app.include_router(phases.router)
    app.include_router(runs.router)

    @app.exception_handler(SignInFirst)
    def sign_in_first(request: Request, error: SignInFirst) -> Response:
        from urllib.parse import quote

        return back(request, f"/login?next={quote(error.next_url)}")

    @app.exception_handler(StarletteHTTPException)
    def refused(request: Request, error: HTTPException) -> Response:
        return render(request, Page("error.html", {"status": error.status_code,
                                                   "detail": str(error.detail)}),
                      status=error.status_code)  # fmt: skip

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        )
        return response

    return app
