"""The coordinator's verification of rectification items (核验销号), as the CLI runs it,
composed with a ``Runtime``: list the items, show one with its history, and close, return,
extend or cancel one, each move one event by the coordinator at the runtime's clock.

A move asked again after it was made (``close`` typed twice, or two coordinators at once) is
answered as already done, naming who did it and when, and writes nothing: the item's state
and its last event say so. No request key is derived from the command's words, since the same
words may honestly be asked twice (returned, claimed again, returned again for the same
reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.errors import DubanError, UnknownIdError
from duban.ledger.schema import RectificationRow
from duban.model.campaign import Campaign
from duban.selfcheck import ledger
from duban.selfcheck.items import Item
from duban.selfcheck.states import (
    EVENT_KINDS,
    STATE_EN,
    STATE_ZH,
    Action,
    Move,
    State,
    TransitionError,
    overdue_on,
)

if TYPE_CHECKING:
    from duban.runtime import Runtime


@dataclass(frozen=True)
class Listing:
    """Items as ``duban rectify list`` shows them, with which are overdue on ``day``."""

    items: list[Item]
    overdue: frozenset[str]
    day: date
    as_of: datetime


@dataclass(frozen=True)
class Shown:
    """One item, whether it is overdue today, and every event of its history."""

    item: Item
    overdue: bool
    history: list[ledger.Entry]


@dataclass(frozen=True)
class Verdict:
    """An item after a coordinator's move; ``already`` when the move had been made before
    (nothing written now), ``entry`` the event that made it."""

    item: Item
    entry: ledger.Entry
    already: bool


def roll_of(campaign: Campaign) -> bool:
    """Whether an item deadline on a day off rolls to the next working day: as the campaign's
    rectification deliverables say when they agree, else (and without any) the default."""
    rolls = {d.rectification.roll for d in campaign.deliverables if d.rectification is not None}
    return rolls != {"none"}


def parse_states(given: Iterable[str]) -> list[State]:
    """``--state`` values: a state's name (``in_progress`` or ``in-progress``), its English or
    its Chinese words (``整改中``); anything else is named with the choices."""
    found = []
    for text in given:
        word = text.strip().lower().replace("-", "_")
        state = next(
            (s for s in State if word in (s.value, STATE_EN[s].replace(" ", "_"), STATE_ZH[s])),
            None,
        )
        if state is None:
            raise DubanError(
                f"--state: {text!r} is not a state of an item",
                hint=f"choose one of: {', '.join(s.value for s in State)}",
                zh=f"--state：“{text}”不是整改事项的状态",
                zh_hint="可选：" + "、".join(f"{s.value}（{STATE_ZH[s]}）" for s in State),
            )
        found.append(state)
    return found


def listing(
    rt: Runtime,
    *,
    unit_id: str | None = None,
    states: Iterable[State] | None = None,
    overdue_only: bool = False,
) -> Listing:
    """The campaign's items by unit and number, narrowed as asked, overdue as of the clock."""
    bundle = rt.bundle
    if unit_id is not None:
        bundle.unit(unit_id)  # a mistyped unit is named, not answered with an empty table
    as_of = rt.clock.now()
    day = as_of.astimezone(bundle.campaign.zone).date()
    roll = roll_of(bundle.campaign)
    with rt.session() as session:
        items = ledger.list_items(
            session, bundle.campaign.id, unit_id=unit_id,
            states=None if states is None else list(states),
        )  # fmt: skip
    late = frozenset(i.code for i in items if overdue_on(i, day, bundle.calendar, roll))
    if overdue_only:
        items = [i for i in items if i.code in late]
    return Listing(items, late, day, as_of)


def show(rt: Runtime, code: str) -> Shown:
    bundle = rt.bundle
    day = rt.clock.now().astimezone(bundle.campaign.zone).date()
    with rt.session() as session:
        found = resolve(session, bundle.campaign.id, code)
        item = ledger.get_item(session, bundle.campaign.id, found)
        events = ledger.history(session, bundle.campaign.id, found)
    late = overdue_on(item, day, bundle.calendar, roll_of(bundle.campaign))
    return Shown(item, late, events)


def verify(rt: Runtime, code: str, move: Move) -> Verdict:
    """Make ``move`` (close, return, extend or cancel) on the item, or say it was already
    made; a move the item's state does not allow is ``TransitionError``, always with a hint."""
    campaign = rt.bundle.campaign
    with rt.session() as session:
        found = resolve(session, campaign.id, code)
        try:
            recorded = ledger.apply_move(session, rt.clock, campaign.id, found, move,
                                         zone=campaign.zone)  # fmt: skip
        except TransitionError as error:
            earlier = _made_before(session, campaign.id, found, move)
            if earlier is not None:
                return earlier
            raise _with_hint(error, found, campaign.id) from None
        entry = ledger.history(session, campaign.id, found)[-1]
    return Verdict(recorded.item, entry, already=False)


def _made_before(session: Session, campaign_id: str, code: str, move: Move) -> Verdict | None:
    """The item's last event if it is this very move (same action; for an extension, to the
    same day), so asking again is answered as done rather than refused."""
    item = ledger.get_item(session, campaign_id, code)
    events = ledger.history(session, campaign_id, code)
    last = events[-1] if events else None
    if last is None or last.kind != EVENT_KINDS[move.action]:
        return None
    if move.action is Action.EXTEND and last.payload.get("deadline") != _iso(move.deadline):
        return None
    return Verdict(item, last, already=True)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _with_hint(error: TransitionError, code: str, campaign_id: str) -> TransitionError:
    """A refusal without a hint gets one: where to look at the item."""
    if error.hint is not None:
        return error
    show = f"`duban rectify show CAMPAIGN.yaml {code}`"
    return TransitionError(
        error.message,
        hint=f"{show} shows the item and its history",
        zh=error.zh,
        zh_hint=f"{show.replace('CAMPAIGN', '活动')} 可查看该事项及其记录",
    )


def resolve(session: Session, campaign_id: str, given: str) -> str:
    """The code of the item ``given`` names: as written, or in other letter case
    (``zg-b03-007``); an unknown code is named with where to find the codes."""
    text = given.strip()
    found = session.scalars(
        select(RectificationRow.code).where(
            RectificationRow.campaign_id == campaign_id,
            func.upper(RectificationRow.code) == text.upper(),
        )
    ).all()
    if text in found:
        return text
    if len(found) == 1:
        return found[0]
    error = UnknownIdError("rectification item", text, [], where=f" in {campaign_id}",
                           zh_where=f"活动 {campaign_id} 中")  # fmt: skip
    error.hint = "`duban rectify list CAMPAIGN.yaml` lists the items and their codes"
    error.zh_hint = "`duban rectify list 活动.yaml` 可列出整改事项及其编号"
    raise error
