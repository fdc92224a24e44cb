"""The pages of the later phases and their actions: the rectification ledger (close or return a
claimed item), the inspection rounds (an inspector sees the rounds they are assigned to), and
the evaluation (ranking, appeals and their decision).

Each calls the use case the CLI command calls (``selfcheck.commands``, ``inspect.commands``,
``evaluate.commands``) through a ``Runtime`` that shares the board's engine and clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.board.actions import acted
from duban.board.context import Board
from duban.board.web import Acting, Page, board_of, campaign_of, render, user_of
from duban.errors import DubanError
from duban.ledger.schema import EvaluationRow, EvaluationScoreRow, InspectionAssignmentRow
from duban.runtime import Runtime
from duban.selfcheck.states import STATE_EN, STATE_ZH, Action, Move, State

router = APIRouter()
Text = Annotated[str, Form()]


@contextmanager
def runtime(board: Board, campaign_id: str) -> Iterator[Runtime]:
    """A ``Runtime`` for one use case: the campaign's bundle, the board's engine and clock."""
    with Runtime.sharing(board.settings, board.bundles[campaign_id], board.engine,
                         board.clock) as rt:  # fmt: skip
        yield rt


@router.get("/c/{campaign_id}/items")
def items_page(
    request: Request, campaign_id: str, state: str = "", overdue: bool = False, unit: str = ""
) -> Response:
    from duban.selfcheck.commands import listing, parse_states

    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    zh = bundle.campaign.language.startswith("zh")
    with runtime(board_of(request), campaign_id) as rt:
        try:
            states = parse_states([state]) if state else None
            shown = listing(rt, unit_id=unit or None, states=states, overdue_only=overdue)
        except DubanError as error:
            raise HTTPException(400, error.said(bundle.campaign.language)[0]) from None
    names = {u.id: u.name for u in bundle.units}
    labels = {s.value: (STATE_ZH if zh else STATE_EN)[s] for s in State}
    return render(request, Page("items.html", {
        "user": user, "listing": shown, "names": names, "labels": labels, "state": state,
        "overdue": overdue, "unit": unit,
    }), bundle=bundle)  # fmt: skip


@router.post("/c/{campaign_id}/items/{code}/close")
def close_item(
    request: Request, campaign_id: str, code: str, csrf: Text = "", note: Text = "",
    reviewer: Text = "",
) -> Response:  # fmt: skip
    return _move(request, campaign_id, code, csrf, Action.CLOSE, note=note, reviewer=reviewer)


@router.post("/c/{campaign_id}/items/{code}/return")
def return_item(
    request: Request, campaign_id: str, code: str, csrf: Text = "", reason: Text = ""
) -> Response:
    return _move(request, campaign_id, code, csrf, Action.RETURN, reason=reason)


def _move(request: Request, campaign_id: str, code: str, csrf: str, action: Action, *,
          note: str = "", reviewer: str = "", reason: str = "") -> Response:  # fmt: skip
    from duban.selfcheck.commands import verify

    def act(a: Acting) -> str:
        move = Move(action, a.user.name, reason=reason or None, note=note or None,
                    reviewer=reviewer or None)  # fmt: skip
        with runtime(a.board, campaign_id) as rt:
            verdict = verify(rt, code, move)
        already = " (already)" if verdict.already else ""
        return f"{verdict.item.code}: {verdict.item.state}{already}"

    return acted(request, campaign_id, csrf, f"/c/{campaign_id}/items", act)


@router.get("/c/{campaign_id}/inspections")
def inspections_page(request: Request, campaign_id: str) -> Response:
    """Every round (a coordinator or viewer), or the rounds an inspector is assigned to."""
    from duban.inspect.commands import status

    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    with runtime(board, campaign_id) as rt:
        rounds = status(rt)
        mine = _assignments(board, campaign_id, user.scope) if user.role == "inspector" else None
    if mine is not None:
        rounds = [r for r in rounds if (r.inspection_id, r.label) in mine]
    names = {u.id: u.name for u in bundle.units}
    return render(request, Page("inspections.html", {
        "user": user, "rounds": rounds, "names": names, "mine": mine,
    }), bundle=bundle)  # fmt: skip


def _assignments(
    board: Board, campaign_id: str, inspectors: tuple[str, ...]
) -> dict[tuple[str, str], list[str]]:
    """The (inspection, round) pairs an inspector account's ids are on, with their units."""
    from duban.ledger.schema import InspectionRoundRow

    with board.session() as db:
        rows = db.execute(
            select(InspectionRoundRow.inspection_id, InspectionRoundRow.label,
                   InspectionAssignmentRow.unit_id, InspectionAssignmentRow.inspectors)
            .join(InspectionRoundRow, InspectionRoundRow.id == InspectionAssignmentRow.round_id)
            .where(InspectionRoundRow.campaign_id == campaign_id)
        ).tuples()  # fmt: skip
        found: dict[tuple[str, str], list[str]] = {}
        for inspection_id, label, unit_id, team in rows:
            if set(map(str, team)) & set(inspectors):
                found.setdefault((inspection_id, label), []).append(unit_id)
    return found


@router.get("/c/{campaign_id}/evaluation")
def evaluation_page(request: Request, campaign_id: str, label: str = "") -> Response:
    from duban.evaluate.commands import status

    user = user_of(request)
    bundle = campaign_of(request, campaign_id)
    board = board_of(request)
    with runtime(board, campaign_id) as rt:
        try:
            shown = status(rt, label or None)
        except DubanError as error:
            raise HTTPException(400, error.said(bundle.campaign.language)[0]) from None
        with board.session() as db:
            ranking = _ranking(db, campaign_id, shown.label)
    names = {u.id: u.name for u in bundle.units}
    return render(request, Page("evaluation.html", {
        "user": user, "status": shown, "ranking": ranking, "names": names,
        "groups": {g.id: g.title for g in bundle.campaign.scoring.ranking_groups},
    }), bundle=bundle)  # fmt: skip


def _ranking(db: Session, campaign_id: str, label: str) -> list[EvaluationScoreRow]:
    """The scores of the latest version of the evaluation, by group and rank."""
    latest = select(EvaluationRow.id).where(EvaluationRow.campaign_id == campaign_id,
                                            EvaluationRow.label == label)  # fmt: skip
    latest = latest.order_by(EvaluationRow.version.desc()).limit(1)
    query = (select(EvaluationScoreRow).where(EvaluationScoreRow.evaluation_id.in_(latest))
             .order_by(EvaluationScoreRow.group_id, EvaluationScoreRow.rank))  # fmt: skip
    return list(db.scalars(query))


@router.post("/c/{campaign_id}/appeals/{appeal_id}/decide")
def decide_appeal(
    request: Request, campaign_id: str, appeal_id: int, csrf: Text = "", reason: Text = "",
    uphold: Text = "", label: Text = "",
) -> Response:  # fmt: skip
    """Decide an appeal: upheld with a corrected source value (``timeliness=1``), or not."""
    from duban.evaluate.commands import correction_of, decide

    def act(a: Acting) -> str:
        if not reason.strip():
            raise DubanError("say why: the reason is sent to the unit",
                             hint="fill in the reason", zh="请写明处理意见：意见会告知单位",
                             zh_hint="填写处理意见后再提交")  # fmt: skip
        correction = correction_of(uphold, "uphold") if uphold.strip() else None
        with runtime(a.board, campaign_id) as rt:
            decided = decide(rt, appeal_id, reason, correction=correction, label=label or None,
                             actor=a.user.name)  # fmt: skip
        version = f", v{decided.version}" if decided.version else ""
        return f"A{decided.appeal_id}: {decided.state}{version}"

    return acted(request, campaign_id, csrf, f"/c/{campaign_id}/evaluation", act)
