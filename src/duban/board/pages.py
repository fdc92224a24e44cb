"""The board's pages (GET): sign-in, the campaign picker, a campaign's overview, the status
matrix (and its export), a unit's page, the held items, and the downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from duban.board.accounts import authenticate
from duban.board.export import matrix_workbook
from duban.board.history import UnitHistory, unit_history
from duban.board.signin import token_matches
from duban.board.web import (
    Page,
    back,
    board_of,
    campaign_of,
    keep,
    render,
    session_of,
    user_of,
)
from duban.board.words import words_for
from duban.implement.review import held_items, local_time
from duban.model.loader import CampaignBundle
from duban.model.matrix import Cell, MatrixQuery, Sort
from duban.model.overview import status_report

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, Page("login.html", {"next": _local(next), "failed": None}))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    board, session = board_of(request), session_of(request)
    t = words_for(board.language)
    if not token_matches(session, csrf):
        return _again(request, next, t("bad_form"), 403)
    keys = (f"address:{request.client.host if request.client else '-'}", f"user:{username}")
    if board.throttle.blocked(*keys):
        return _again(request, next, t("throttled"), 429)
    with board.session() as db:
        found = authenticate(db, username, password)
    if found is None:
        board.throttle.failed(*keys)
        return _again(request, next, t("wrong_login"), 401)
    board.throttle.succeeded(*keys)
    session.user = found.name
    return back(request, _local(next))


def _again(request: Request, next_url: str, failed: str, status: int) -> Response:
    """The login page again, saying why (and nothing about whether the name exists)."""
    page = Page("login.html", {"next": _local(next_url), "failed": failed})
    return render(request, page, status=status)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = session_of(request)
    if not token_matches(session, csrf):
        raise HTTPException(403, "the form expired")
    session.user = None
    return back(request, "/login")


def _local(url: str) -> str:
    """Only a path of this board after signing in, never another site (an open redirect)."""
    return url if url.startswith("/") and not url.startswith("//") else "/"


@router.get("/")
def home(request: Request) -> Response:
    user_of(request)
    board = board_of(request)
    if len(board.bundles) == 1:
        return back(request, f"/c/{next(iter(board.bundles))}/")
    return render(request, Page("picker.html", {}))


@router.get("/c/{campaign_id}/")
def overview(request: Request, campaign_id: str) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    now = board.now()
    with board.session() as db:
        report = status_report(db, now, campaign=campaign_id)["campaigns"][0]
        matrix = board.matrix(db, campaign_id)
    counts = matrix.view(MatrixQuery(per_page=1)).counts
    today = now.astimezone(bundle.campaign.zone).date()
    return render(request, Page("overview.html", {
        "user": user, "report": report, "counts": counts, "today": today,
        "phases": bundle.campaign.phases, "titles": _titles(bundle),
    }), bundle=bundle)  # fmt: skip


def _titles(bundle: CampaignBundle) -> dict[str, str]:
    return {d.id: d.title for d in bundle.campaign.deliverables}


def matrix_query(
    q: str = "",
    tag: str = "",
    state: str = "",
    deliverable: str = "",
    sort: str = "",
    desc: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> MatrixQuery:
    """The matrix's filters from the URL, for the page and its export alike (the export
    takes every row the filters keep, whatever the page)."""
    try:
        chosen_state = Cell(state) if state else None
        chosen_sort = Sort(sort) if sort else Sort.UNIT
    except ValueError:
        raise HTTPException(400, f"unknown state or sort: {state or sort}") from None
    return MatrixQuery(q, tag or None, chosen_state, deliverable or None, chosen_sort, desc,
                       max(1, page))  # fmt: skip


Filters = Annotated[MatrixQuery, Depends(matrix_query)]


@router.get("/c/{campaign_id}/matrix")
def matrix_page(request: Request, campaign_id: str, query: Filters) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    with board.session() as db:
        matrix = board.matrix(db, campaign_id)
    shown = matrix.view(query)
    return render(request, Page("matrix.html", {
        "user": user, "matrix": matrix, "shown": shown, "query": query,
        "params": request.url.query, "titles": _titles(bundle),
    }), bundle=bundle)  # fmt: skip


@router.get("/c/{campaign_id}/matrix.xlsx")
def matrix_export(request: Request, campaign_id: str, query: Filters) -> Response:
    user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    with board.session() as db:
        matrix = board.matrix(db, campaign_id)
    data = matrix_workbook(matrix, query, bundle.campaign.language, _titles(bundle))
    response = Response(data, media_type=XLSX, headers=_attachment(f"{campaign_id}-matrix.xlsx"))
    keep(request, response)
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> dict[str, str]:
    """RFC 6266 with RFC 5987's UTF-8 name, so a Chinese file name survives every browser."""
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {"Content-Disposition":
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}  # fmt: skip


@router.get("/c/{campaign_id}/unit/{unit_id}")
def unit_page(request: Request, campaign_id: str, unit_id: str) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    with board.session() as db:
        matrix = board.matrix(db, campaign_id)
        history = unit_history(db, campaign_id, unit_id, matrix, bundle.campaign.language)
        if history is None:
            raise HTTPException(404, f"no unit {unit_id}")
        held = [h for h in held_items(db, bundle) if h.id in _held_of(history)]
        page = Page("unit.html", {
            "user": user, "h": history, "held": held, "titles": _titles(bundle),
            "local": lambda at: local_time(at, bundle.campaign.zone) if at else "",
        })  # fmt: skip
        return render(request, page, bundle=bundle)


def _held_of(history: UnitHistory) -> set[str]:
    ids: set[str] = set()
    for reply in history.replies:
        ids.add(reply.item)
        ids.update(file[0] for file in reply.files)
    return ids


@router.get("/c/{campaign_id}/held")
def held_page(request: Request, campaign_id: str) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    with board_of(request).session() as db:
        items = held_items(db, bundle)
    zone = bundle.campaign.zone
    return render(request, Page("held.html", {
        "user": user, "items": items, "local": lambda at: local_time(at, zone),
    }), bundle=bundle)  # fmt: skip
