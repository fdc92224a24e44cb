"""Downloads: every workbook and bulletin under the campaign's output folder, and the raw bytes
of any message or file received (as ``duban review --open`` writes them).

A path is taken only inside the campaign's own output folder: ``..``, an absolute path or a
link leading out is refused (400 or 404), never followed.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from duban.board.web import Page, board_of, campaign_of, keep, render, user_of
from duban.errors import DubanError
from duban.implement.intake.rawstore import RawStore
from duban.implement.review import open_item

router = APIRouter()


def outputs_of(request: Request, campaign_id: str) -> Path:
    return board_of(request).settings.outputs / campaign_id


def listed(folder: Path) -> list[tuple[str, int]]:
    """Every file under the folder, newest first, as a relative path and a size."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    files.sort(key=lambda p: (-p.stat().st_mtime, str(p)))
    return [(p.relative_to(folder).as_posix(), p.stat().st_size) for p in files]


@router.get("/c/{campaign_id}/files")
def files_page(request: Request, campaign_id: str) -> Response:
    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    files = listed(outputs_of(request, campaign_id))
    return render(request, Page("files.html", {"user": user, "files": files}), bundle=bundle)


def inside(base: Path, relative: str) -> Path:
    """The file ``relative`` names under ``base``; anything leading out of it is refused."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("..", "") for p in parts) \
            or "\\" in relative:  # fmt: skip
        raise HTTPException(400, "not a file of this campaign")
    target = (base / Path(*parts)).resolve()
    if not target.is_relative_to(base.resolve()) or not target.is_file():
        raise HTTPException(404, "no such file")
    return target


@router.get("/c/{campaign_id}/files/{relative:path}")
def download(request: Request, campaign_id: str, relative: str) -> Response:
    user_of(request)
    campaign_of(request, campaign_id)
    target = inside(outputs_of(request, campaign_id), relative)
    response = FileResponse(target, filename=target.name)
    keep(request, response)
    return response


@router.get("/c/{campaign_id}/raw/{item}")
def raw(request: Request, campaign_id: str, item: str) -> Response:
    """A received message's .eml or a file's own bytes, by its id (M12, F34)."""
    user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    try:
        with board.session() as db:
            name, data = open_item(db, bundle, RawStore(board.settings.raw_store), item)
    except DubanError as error:
        raise HTTPException(404, error.said(bundle.campaign.language)[0]) from None
    from duban.board.pages import _attachment

    response = Response(data, media_type="application/octet-stream", headers=_attachment(name))
    keep(request, response)
    return response
