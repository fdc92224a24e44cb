"""A filled verification workbook (核验销号表) recorded in the ledger: each verdict the move the
coordinator's commands make (``close``, ``return``), all of them or none, exactly once.

The same code serves ``duban rectify verdicts FILE`` and intake, when the coordinator mails the
workbook back. Under the lock of the file's digest and then of each item it names (in code
order, so two files never wait on each other in a circle), the items and the verdicts this
file already recorded are read, the file is planned (``verification.plan_verdicts``: every bad
row named, nothing recorded), and each move is applied with its request key. A second run of
the same file, at once or later, finds every key recorded and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.intake.chunks import chunks
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import EventRow, RectificationRow
from duban.ledger.store import append_event
from duban.model.campaign import Campaign
from duban.selfcheck import ledger
from duban.selfcheck.items import Item
from duban.selfcheck.states import EVENT_KINDS, Action
from duban.selfcheck.verification import (
    Grids,
    VerdictPlan,
    plan_verdicts,
    read_sheet,
    request_key,
)

VERDICTS_IMPORTED = "rectification.verdicts-imported"


@dataclass(frozen=True)
class VerdictsRecorded:
    """What a file did: the items closed and returned now, those its verdicts had moved
    before (the same file again), and its rows left without a verdict."""

    file: str
    sha256: str
    sheet: str
    closed: tuple[str, ...]
    returned: tuple[str, ...]
    already: tuple[str, ...]
    blank: int

    @property
    def recorded(self) -> int:
        return len(self.closed) + len(self.returned)


def record_verdicts(
    session: Session,
    clock: Clock,
    campaign: Campaign,
    grids: Grids,
    *,
    sha256: str,
    name: str,
    actor: str,
    keep: Callable[[], object] = lambda: None,
) -> VerdictsRecorded:
    """Record the verdicts of the workbook read into ``grids`` (its bytes' digest ``sha256``,
    its name ``name``), or raise ``VerdictsFileError`` with every bad row; ``keep`` stores
    the bytes in the raw store before anything is recorded (intake stored them already)."""
    hold_write_lock(session.connection(), f"rectification-verdicts:{campaign.id}:{sha256}")
    sheet = read_sheet(grids, name)
    codes = _codes(session, campaign.id, [r.code for r in sheet.rows if r.code and r.verdict])
    for code in codes:
        hold_write_lock(session.connection(), f"rectification-item:{campaign.id}:{code}")
    items = _items(session, campaign.id, codes)
    recorded = _recorded(session, campaign.id, codes, sha256)
    plan = plan_verdicts(sheet, items, recorded, sha256=sha256, actor=actor, name=name)
    if plan.moves:
        keep()
        for planned in plan.moves:
            ledger.apply_move(session, clock, campaign.id, planned.code, planned.move,
                              zone=campaign.zone)  # fmt: skip
    done = _summary(plan, name, sha256, sheet.sheet)
    if plan.moves:
        append_event(session, clock, VERDICTS_IMPORTED, campaign_id=campaign.id,
                     subject=f"verdicts:{sha256}", actor=actor,
                     payload={"file": name, "sha256": sha256, "sheet": sheet.sheet,
                              "closed": list(done.closed), "returned": list(done.returned),
                              "already": list(done.already), "blank": done.blank})  # fmt: skip
    session.flush()
    return done


def _summary(plan: VerdictPlan, name: str, sha256: str, sheet: str) -> VerdictsRecorded:
    closed = tuple(p.code for p in plan.moves if p.move.action is Action.CLOSE)
    returned = tuple(p.code for p in plan.moves if p.move.action is Action.RETURN)
    return VerdictsRecorded(name, sha256, sheet, closed, returned, plan.already, plan.blank)


def _codes(session: Session, campaign_id: str, given: Iterable[str | None]) -> list[str]:
    """The codes of the items the file names (in any letter case), in code order."""
    wanted = sorted({g.strip().upper() for g in given if g})
    found: set[str] = set()
    for chunk in chunks(wanted):
        found.update(session.scalars(select(RectificationRow.code).where(
            RectificationRow.campaign_id == campaign_id,
            func.upper(RectificationRow.code).in_(chunk),
        )))  # fmt: skip
    return sorted(found)


def _items(session: Session, campaign_id: str, codes: list[str]) -> dict[str, Item]:
    """The items, by upper-case code, in a query (or one a few hundred codes)."""
    found: dict[str, Item] = {}
    for chunk in chunks(codes):
        query = select(RectificationRow).where(
            RectificationRow.campaign_id == campaign_id, RectificationRow.code.in_(chunk)
        )
        found.update((row.code.upper(), ledger.to_item(row)) for row in session.scalars(query))
    return found


_VERDICT_KINDS = (EVENT_KINDS[Action.CLOSE], EVENT_KINDS[Action.RETURN])


def _recorded(session: Session, campaign_id: str, codes: list[str], sha256: str) -> frozenset[str]:
    """The items whose history holds this file's verdict: the items' histories read at once."""
    found: set[str] = set()
    for chunk in chunks(codes):
        query = select(EventRow.subject, EventRow.payload).where(
            EventRow.campaign_id == campaign_id,
            EventRow.subject.in_(chunk),
            EventRow.kind.in_(_VERDICT_KINDS),
        )
        for code, payload in session.execute(query).tuples():
            if code is not None and payload.get("request_key") == request_key(sha256, code):
                found.add(code)
    return frozenset(found)
