"""The coordinator's side of the rectification ledger, as the CLI runs it, composed with a
``Runtime``: list the items, show one with its history, and close, return, extend or cancel
one (核验销号), each move one event by the coordinator at the runtime's clock; import the
problems an inspection hands down (督查交办) from a spreadsheet; write the 整改台账 workbook.

A move asked again after it was made (``close`` typed twice, or two coordinators at once) is
answered as already done, naming who did it and when, and writes nothing: the item's state
and its last event say so. No request key is derived from the command's words, since the same
words may honestly be asked twice (returned, claimed again, returned again for the same
reason).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.adapters.outfiles import target_of, writing
from duban.errors import DubanError, UnknownIdError
from duban.ledger.schema import RectificationRow
from duban.ledger.store import append_event
from duban.model.campaign import Campaign, ItemSource
from duban.model.loader import CampaignBundle
from duban.selfcheck import ledger
from duban.selfcheck.importing import ImportPlan, plan_import, read_grid
from duban.selfcheck.items import Item, NewItem
from duban.selfcheck.lists import hold_findings_lock, not_yet_items
from duban.selfcheck.rates import Rules
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
from duban.selfcheck.texts import LEDGER_TEXTS, VERIFY_TEXTS
from duban.selfcheck.verdicts import VerdictsRecorded, record_verdicts
from duban.selfcheck.workbook import LedgerStats, write_rectification_ledger

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


# --------------------------------------------------------------------------- import

IMPORTED = "rectification.imported"
LEDGER_WRITTEN = "rectification.ledger-written"
IMPORT_SOURCES: tuple[ItemSource, ...] = ("assigned", "inspection")


@dataclass(frozen=True)
class Imported:
    """What an import did: the file (its name and SHA-256, its bytes in the raw store when it
    added anything), the sheet read, the problem rows it holds, the items it created, how many rows
    were already items of their unit, and how many repeated an earlier row of the file."""

    file: str
    sha256: str
    sheet: str
    rows: int
    new: tuple[str, ...]
    known: int
    repeated: int


def import_file(rt: Runtime, path: Path, *, source: ItemSource, actor: str) -> Imported:
    """The coordinator's spreadsheet of problems (督查交办) as items of ``source``: every row
    checked first (``ImportFileError`` lists every problem, and nothing is recorded); a row
    whose unit already has an item with the same finding (spaces aside) is that item, so the
    same file imported again records nothing. What it adds is recorded with one
    ``rectification.imported`` event naming the file's digest, under which its bytes are kept
    in the raw store (``DUBAN_HOME/raw``), as every message and file duban receives is."""
    if source not in IMPORT_SOURCES:
        raise DubanError(
            f"--source: {source!r} is not assigned or inspection",
            hint="--source assigned (交办, the default) or --source inspection (督查发现)",
            zh=f"--source：“{source}”应为 assigned 或 inspection",
            zh_hint="--source assigned（交办，默认）或 --source inspection（督查发现）",
        )
    data = read_file(path)
    sha = hashlib.sha256(data).hexdigest()
    bundle = rt.bundle
    plan = plan_import(read_grid(data, path.name), bundle.units, source=source,
                       origin=f"import:{sha[:16]}", name=path.name)  # fmt: skip
    with rt.session() as session:
        hold_findings_lock(session, bundle.campaign.id)
        fresh = _fresh(session, bundle.campaign.id, plan)
        new: tuple[str, ...] = ()
        if fresh:
            from duban.implement.intake.rawstore import RawStore

            RawStore(rt.settings.raw_store, rt.settings.store_flush).put(data)
            recorded = ledger.create_items(session, rt.clock, bundle.campaign.id, fresh,
                                           actor=actor)  # fmt: skip
            new = tuple(r.item.code for r in recorded if r.new)
            append_event(session, rt.clock, IMPORTED, campaign_id=bundle.campaign.id,
                         subject=f"import:{sha}", actor=actor,
                         payload={"file": path.name, "sha256": sha, "source": source,
                                  "sheet": plan.sheet, "rows": plan.row_count,
                                  "items": list(new), "known": len(plan.rows) - len(fresh),
                                  "repeated": list(plan.repeated)})  # fmt: skip
    return Imported(path.name, sha, plan.sheet, plan.row_count, new,
                    len(plan.rows) - len(fresh), len(plan.repeated))  # fmt: skip


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise DubanError(f"cannot read {path}: {error.strerror}",
                         hint="name the .xlsx file to import",
                         zh=f"无法读取 {path}：{error.strerror}",
                         zh_hint="请写上要导入的 .xlsx 文件") from None  # fmt: skip


def _fresh(session: Session, campaign_id: str, plan: ImportPlan) -> list[NewItem]:
    """The plan's items not yet items of their unit, in the file's order."""
    by_unit: dict[str, list[NewItem]] = {}
    for row in plan.rows:
        by_unit.setdefault(row.item.unit_id, []).append(row.item)
    keep = {
        id(item)
        for unit_id, items in by_unit.items()
        for item in not_yet_items(session, campaign_id, unit_id, items)
    }
    return [row.item for row in plan.rows if id(row.item) in keep]


# --------------------------------------------------------------------------- the workbook


@dataclass(frozen=True)
class LedgerWritten:
    path: Path
    day: date
    stats: LedgerStats


def rules_of(rt: Runtime) -> Rules:
    """Overdue and on time as of the runtime's clock, by the campaign's calendar and zone."""
    return rules_at(rt.bundle, rt.clock.now())


def rules_at(bundle: CampaignBundle, moment: datetime) -> Rules:
    """Overdue and on time as of ``moment`` (the archive's replay gives the moment a ledger
    was written)."""
    campaign = bundle.campaign
    day = moment.astimezone(campaign.zone).date()
    return Rules(day, bundle.calendar, campaign.zone, roll_of(campaign))


def default_ledger_path(rt: Runtime, day: date) -> Path:
    """``DUBAN_HOME/out/<campaign>/rectification/整改台账（2026-07-15）.xlsx``: beside the
    campaign's other outputs, named in its language, one a day (the same day again replaces
    it)."""
    campaign = rt.bundle.campaign
    name = LEDGER_TEXTS[campaign.language].file_name.format(day=day.isoformat())
    return rt.settings.outputs / campaign.id / "rectification" / f"{name}.xlsx"


def write_ledger(rt: Runtime, out: Path | None = None) -> LedgerWritten:
    """The 整改台账 of every item as of the runtime's clock, at ``out`` (a file, or a folder
    to write the default name into) or the default path; one ``rectification.ledger-written``
    event says where and what it counted."""
    bundle, rules = rt.bundle, rules_of(rt)
    target = target_of(default_ledger_path(rt, rules.day), out)
    with rt.session() as session:
        items = ledger.list_items(session, bundle.campaign.id)
        with writing(target):
            stats = ledger_book(target, bundle, items, rules)
        total = stats.total
        append_event(session, rt.clock, LEDGER_WRITTEN, campaign_id=bundle.campaign.id,
                     subject=f"ledger:{rules.day.isoformat()}",
                     payload={"path": str(target), "items": stats.items,
                              "found": total.found, "closed": total.closed,
                              "overdue": total.overdue})  # fmt: skip
    return LedgerWritten(target, rules.day, stats)


def ledger_book(
    path: Path, bundle: CampaignBundle, items: Iterable[Item], rules: Rules
) -> LedgerStats:
    """The 整改台账 of ``items`` written to ``path`` with the campaign's roster, language and
    title: what ``write_ledger`` writes, and what the archive's replay writes again."""
    return write_rectification_ledger(path, items, bundle.units, rules=rules,
                                      language=bundle.campaign.language,
                                      title=bundle.campaign.title)  # fmt: skip


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class SheetWritten:
    path: Path
    day: date
    rows: int
    signed: bool


def write_verification(
    rt: Runtime, unit_ids: Iterable[str] = (), out: Path | None = None
) -> SheetWritten:
    """The 核验销号表 of every claimed item (of ``unit_ids`` if given) as of the runtime's
    clock, at ``out`` (a file or a folder) or beside the 整改台账; signed with
    ``DUBAN_SECRET`` when it is set, so the coordinator may mail it back to intake."""
    from duban.adapters.xlsx.token import VERIFICATION_SHEET, SheetIdentity, sign
    from duban.selfcheck.verifysheet import SheetMeta, write_verification_sheet

    bundle, day = rt.bundle, rules_of(rt).day
    wanted = [bundle.unit(u).id for u in unit_ids]
    campaign = bundle.campaign
    name = VERIFY_TEXTS[campaign.language].file_name.format(day=day.isoformat())
    target = target_of(default_ledger_path(rt, day).with_name(f"{name}.xlsx"), out)
    identity = SheetIdentity(VERIFICATION_SHEET, campaign.id, day.isoformat())
    signing = rt.settings.secret is not None and rt.settings.secret.get_secret_value()
    token = sign(rt.settings.secret_key(), identity) if signing else None
    with rt.session() as session:
        items = [i for i in ledger.list_items(session, campaign.id, states=[State.CLAIMED])
                 if not wanted or i.unit_id in wanted]  # fmt: skip
    names = {u.id: u.name for u in bundle.units}
    with writing(target):
        rows = write_verification_sheet(target, items, names, SheetMeta(identity, token),
                                        language=campaign.language, zone=campaign.zone,
                                        title=campaign.title)  # fmt: skip
    return SheetWritten(target, day, rows, token is not None)


def import_verdicts(rt: Runtime, path: Path, *, actor: str) -> VerdictsRecorded:
    """The verdicts of a filled 核验销号表, recorded all or none (``selfcheck.verdicts``); the
    file's bytes go to the raw store when anything is recorded."""
    from duban.implement.intake.rawstore import RawStore

    data = read_file(path)
    sha = hashlib.sha256(data).hexdigest()
    grids = read_grid(data, path.name)
    store = RawStore(rt.settings.raw_store, rt.settings.store_flush)
    with rt.session() as session:
        return record_verdicts(session, rt.clock, rt.bundle.campaign, grids, sha256=sha,
                               name=path.name, actor=actor,
                               keep=lambda: store.put(data))  # fmt: skip
