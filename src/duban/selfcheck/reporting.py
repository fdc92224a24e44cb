"""Progress reports against the ledger: the thin adapter between intake and ``progress``.

Intake calls ``read_progress`` once a report's cells are valid, before it is accepted, so that
a refusal rejects the file like an invalid cell does; and ``record_progress`` right after the
file became a version, in the same transaction: the version, its moves and its new items are
committed together or not at all. That is the one place every accepted file passes (a collect
batch and a coordinator's ``review accept`` alike), so both end the same way. A file read
again (a crash, a retry) moves nothing twice: each move's request key and each new item's
origin key name the file and the item or row (``apply_move`` and ``create_items`` return what
was recorded the first time).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.errors import DubanError
from duban.model.campaign import Campaign, Deliverable
from duban.model.forms import Sheet
from duban.model.validation import Grid, Position, filled_row_numbers
from duban.selfcheck.ledger import apply_move, create_items, list_items
from duban.selfcheck.progress import Finding, Reading, Report, RowMove, read_report
from duban.selfcheck.states import STATE_EN, STATE_ZH, Action, Move, State


def progress_sheet(campaign: Campaign, deliverable: Deliverable) -> Sheet:
    """The form sheet a progress report is on (the loader made sure it exists)."""
    spec = deliverable.rectification_progress
    assert spec is not None
    form = campaign.form(deliverable.form)
    return next(s for s in form.sheets if s.name == (spec.sheet or form.sheets[0].name))


def read_progress(
    session: Session,
    campaign: Campaign,
    deliverable: Deliverable,
    unit_id: str,
    rows_by_sheet: Mapping[str, Sequence[Mapping[str, Any]]],
    grids: Mapping[str, Grid],
    uncomputed: Mapping[str, Collection[Position]],
    *,
    now: datetime,
    origin: str,
) -> Reading:
    """A valid report (its rows as validated, and the grids they came from, for their row
    numbers) read against the unit's items as the ledger holds them now."""
    spec = deliverable.rectification_progress
    assert spec is not None
    sheet = progress_sheet(campaign, deliverable)
    grid = grids.get(sheet.name, [])
    numbers = filled_row_numbers(sheet, grid, frozenset(uncomputed.get(sheet.name, ())))
    report = Report(list(rows_by_sheet.get(sheet.name, ())), numbers, unit_id, origin)
    items = list_items(session, campaign.id, unit_id=unit_id)
    zone = campaign.zone
    return read_report(report, items, spec, sheet, today=now.astimezone(zone).date(), zone=zone)


def record_progress(
    session: Session, clock: Clock, campaign: Campaign, reading: Reading, unit_id: str
) -> list[Finding]:
    """Apply what an accepted report asks: each move as an event by the unit, each new row as
    a new item (with its progress, if given). What to tell the unit, in row order (the items
    whose rows are missing last): the reading's notes, each move and new item, and any move
    the ledger refused after all (the item moved since)."""
    told = list(reading.notes)
    for row_move in reading.moves:
        told.append(_apply(session, clock, campaign, row_move))
    if reading.new:
        items = [n.item for n in reading.new]
        recorded = create_items(session, clock, campaign.id, items, actor=f"unit:{unit_id}")
        for new, done in zip(reading.new, recorded, strict=True):
            code = done.item.code
            told.append(Finding("new", new.row, item=code))
            if new.progress is not None or new.claimed:
                move = Move(
                    Action.PROGRESS,
                    actor=f"unit:{unit_id}",
                    role="unit",
                    note=new.progress,
                    request_key=f"{new.item.origin_key}:progress",
                )
                told.append(_apply(session, clock, campaign, RowMove(new.row, code, move)))
    return sorted(told, key=lambda f: (f.row is None, f.row or 0))


def _apply(session: Session, clock: Clock, campaign: Campaign, row_move: RowMove) -> Finding:
    try:
        done = apply_move(
            session, clock, campaign.id, row_move.code, row_move.move, zone=campaign.zone
        )
    except DubanError as error:
        zh, en = error.said("zh-CN")[0], error.said("en")[0]
        return Finding(
            "not-moved", row_move.row, item=row_move.code, detail={"reason_zh": zh, "reason_en": en}
        )
    state = State(done.item.state)
    return Finding(
        "moved",
        row_move.row,
        item=row_move.code,
        detail={"state_zh": STATE_ZH[state], "state_en": STATE_EN[state]},
    )
