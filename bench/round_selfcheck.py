"""The self-check phase's stages of bench/round (自查自纠), after the plan's, on the same ledger.

Each later phase adds its stages to the round; these are the self-check's (see bench/round's
docstring for the table of moments): the problem-list form sent and answered with 3 problems a
unit, the lists turned into items, the monthly progress report sent with each unit's template
pre-filled with its open items and answered, the items chased the day after the first of them
fall due (one message a unit), and the 整改台账 written.

bench/round is a script, not an importable module, so what these stages share with the plan's
(running a command and measuring it, the sink, the ledger's counts, the table's rows, the
mailer floor) is reached as ``__main__``: bench/round itself, in its own process and in each
step's. Like it, this module imports only the standard library at its top (duban, openpyxl and
demo inside the steps), since a child's ``ru_maxrss`` starts at its parent's high-water mark.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import __main__ as base  # bench/round, which imports this module

LISTS = "self-check"  # the problem-list form (整改台账: problems → items)
PROGRESS, PERIOD = "rectification", "2026-09"  # the monthly progress report (整改进展月报)
MOBILIZE_LISTS_AT = "2026-09-01T09:00"
LISTS_FROM, LISTS_TO = "2026-09-02T09:00", "2026-09-17T17:00"  # the lists arrive
COLLECT_LISTS_AT = "2026-09-18T18:00"  # the lists are due on 18 September, 17:30
MOBILIZE_PROGRESS_AT = "2026-10-09T09:00"  # the first working day after National Day's
PROGRESS_FROM, PROGRESS_TO = "2026-10-09T10:00", "2026-10-13T17:00"  # the reports arrive
COLLECT_PROGRESS_AT = "2026-10-13T18:00"  # the September report is due on 13 October
CHASE_ITEMS_AT = "2026-10-21T10:00"  # the day after the first items' deadline: overdue notice
FIRST_DUE, LATER_DUE = "2026-10-20", "2026-11-30"  # each unit's first item; its others
COMPLETED_ON = "2026-10-08"  # the day a claiming unit says it finished its first item
ITEMS = 3
"""Problems in each synthetic unit's list: each becomes an item."""
SHARES = (("claim", 0.45), ("wrong", 0.03), ("unsupported", 0.02))
"""Progress reports by kind, the rest "valid": a claim of the first item (已完成, its day and
evidence) with progress on the others; a state outside the list (其他) and a claim without
evidence, both refused; progress on every item (整改中), the valid rest."""
STAGE_TITLES = ("mobilize lists", "collect lists", "mobilize progress", "collect progress",
                "chase items", "rectify ledger")  # fmt: skip


# --- the parent: the stages, each checked and beside its floor ------------------------------


def run(state: Any) -> None:
    """The self-check phase's stages in order, each checked before the next (``RoundError``)."""
    _mobilize(state, "mobilize lists", LISTS, "once", MOBILIZE_LISTS_AT, "lists")
    _setup(state, "lists")
    _collect_lists(state)
    _mobilize(state, "mobilize progress", PROGRESS, PERIOD, MOBILIZE_PROGRESS_AT, "progress")
    _setup(state, "progress")
    _collect_progress(state)
    _chase_items(state)
    _ledger(state)


def _mobilize(state: Any, title: str, deliverable: str, period: str, now: str, what: str) -> None:
    """``duban mobilize`` of one deliverable period: every duty's notice sent once."""
    before = state.figures["check"]
    args = ["mobilize", str(state.campaign), "--deliverable", deliverable, "--period", period]
    with base._sink(state) as sink:
        run = base._command(state, title, args, now, sink.port)
    after = base._check(state, title)
    sent = base._delta(before, after, "notice")
    planned = after["selfcheck"]["instances"][deliverable]
    if sent != planned or sink.received != planned:
        raise base.RoundError(f"{title}: {planned} notices planned, the ledger says {sent} "
                              f"sent, the sink received {sink.received}")  # fmt: skip
    floor = base._mail_floor(state, what, "floor-selfcheck-mail")
    row = base.Row(title, "notices", sent, run.seconds, run.peak_mb, floor["rate"])
    row.floor_note = "SmtpMailer alone, same notices, one connection"
    if what == "progress":
        expected = ITEMS * state.units
        if floor["listed"] != expected:
            raise base.RoundError(f"{title}: the templates list {floor['listed']} open items, "
                                  f"the units have {expected}")  # fmt: skip
        row.floor_note = "SmtpMailer alone, same pre-filled notices, one connection"
        row.notes.append(f"each unit's template pre-filled with its open items: {expected} rows "
                         f"over {sent} templates (the B units' with none)")  # fmt: skip
    row.notes.append(base._mail_line(floor, sink))
    base._add(state, row, after)


def _setup(state: Any, what: str) -> None:
    """Setup, not a stage: every synthetic unit's reply, built and put in the Maildir."""
    made, run = base._step(state.work, f"selfcheck-{what}", f"selfcheck-{what}")
    state.figures[f"selfcheck-{what}"] = made
    counts = ", ".join(f"{k} {v}" for k, v in made["counts"].items())
    base._say(f"{what} replies made in {run.seconds:.1f} s (setup, not timed): {counts}")


def _collect_lists(state: Any) -> None:
    before = state.figures["check"]["selfcheck"]
    lists = state.figures["selfcheck-lists"]["counts"]["valid"]
    expected = {"accepted": lists, "rejected": 0, "quarantined": 0}
    row, after = base._collect_stage(state, "collect lists", COLLECT_LISTS_AT, "lists", expected)
    now = after["selfcheck"]
    items = now["items"].get("open", 0) - before["items"].get("open", 0)
    units = now["submitted"][LISTS] - before["submitted"][LISTS]
    if units != lists or items != ITEMS * lists:
        raise base.RoundError(f"collect lists: {lists} lists of {ITEMS} problems; {units} "
                              f"units with a version, {items} new open items")  # fmt: skip
    row.notes.append(f"{items} items recorded from the lists ({ITEMS} a unit)")
    base._add(state, row, after)


def _collect_progress(state: Any) -> None:
    before = state.figures["check"]["selfcheck"]
    counts = state.figures["selfcheck-progress"]["counts"]
    claim, reported = counts["claim"], counts["valid"]  # reported: progress on every item
    refused = counts["wrong"] + counts["unsupported"]
    expected = {"accepted": claim + reported, "rejected": refused, "quarantined": 0}
    title = "collect progress"
    row, after = base._collect_stage(state, title, COLLECT_PROGRESS_AT, "progress", expected)
    now = after["selfcheck"]
    moves = {k: now["events"].get(k, 0) - before["events"].get(k, 0)
             for k in ("rectification.claimed", "rectification.progress")}  # fmt: skip
    want = {"rectification.claimed": claim,
            "rectification.progress": (ITEMS - 1) * claim + ITEMS * reported}  # fmt: skip
    states = {"claimed": claim, "in_progress": want["rectification.progress"],
              "open": ITEMS * refused}  # fmt: skip
    got = {k: now["items"].get(k, 0) for k in states}
    units = now["submitted"][PROGRESS] - before["submitted"][PROGRESS]
    if moves != want or got != states or units != claim + reported:
        raise base.RoundError(f"{title}: moves {moves}, expected {want}; items {got}, expected "
                              f"{states}; {units} units with a version")  # fmt: skip
    row.notes.append(f"{sum(moves.values())} moves recorded ({claim} claims); items now {got}")
    base._add(state, row, after)


def _chase_items(state: Any) -> None:
    """The day after the first items' deadline: one message a unit, naming the first item of
    every unit that did not claim it and the report of every unit that owes it (the refused and
    the B units); the escalations of older duties go to the office."""
    before = state.figures["check"]
    counts = state.figures["selfcheck-progress"]["counts"]
    with base._sink(state) as sink:
        run = base._command(state, "chase items", ["chase", str(state.campaign)],
                            CHASE_ITEMS_AT, sink.port)  # fmt: skip
    after = base._check(state, "chase items")
    sent = sum(base._delta(before, after, kind) for kind in base.RUNGS)
    office = base._delta(before, after, "escalation")
    unclaimed = state.units - counts["claim"]
    owing = counts["wrong"] + counts["unsupported"] + after["example_units"]
    expected = unclaimed + after["example_units"]
    covered = {k: after["selfcheck"]["covered"][k] - before["selfcheck"]["covered"][k]
               for k in ("items", "duties")}  # fmt: skip
    if sent != expected or sink.received != sent + office:
        raise base.RoundError(f"chase items: {expected} units owe; the ledger sent {sent} and "
                              f"{office} escalations, the sink got {sink.received}")  # fmt: skip
    if covered != {"items": unclaimed, "duties": owing}:
        raise base.RoundError(f"chase items: the messages covered {covered}, expected "
                              f"{unclaimed} items and {owing} reports")  # fmt: skip
    floor = base._mail_floor(state, "chase", "floor-selfcheck-mail")
    row = base.Row("chase items", "messages", sent, run.seconds, run.peak_mb, floor["rate"])
    row.floor_note = "SmtpMailer alone, same messages of the day"
    row.notes.append(f"{covered['items']} overdue items and {covered['duties']} reports owed, "
                     f"in {sent} messages (one a unit); {office} escalations to the office "
                     f"(older duties), not in the count")  # fmt: skip
    row.notes.append(base._mail_line(floor, sink))
    base._add(state, row, after)


def _ledger(state: Any) -> None:
    args = ["rectify", "ledger", str(state.campaign)]
    run = base._command(state, "rectify ledger", args, CHASE_ITEMS_AT)
    after = base._check(state, "rectify ledger")
    written = after["selfcheck"]["ledger"] or {}
    items = ITEMS * state.units
    expected = {"items": items, "found": items, "closed": 0, "overdue": state.units}
    got = {k: written.get(k) for k in expected}
    if got != expected:
        raise base.RoundError(f"rectify ledger wrote {got}, expected {expected}")
    floor = base._step(state.work, "floor-ledger", "floor-ledger")[0]
    row = base.Row("rectify ledger", "items", items, run.seconds, run.peak_mb,
                   items / floor["seconds"])  # fmt: skip
    row.floor_note = "write_rectification_ledger, same items from memory"
    row.notes.append(
        f"floor: duban's writer {floor['seconds']:.2f} s; openpyxl write_only, the same rows "
        f"(bench/rectification's baseline) {floor['openpyxl_seconds']:.2f} s; floor process "
        f"{floor['peak_mb']:.0f} MB (every item held in memory)"
    )
    base._add(state, row, after)


# --- the steps, each in its own interpreter -------------------------------------------------


def ledger_figures(session: Any) -> dict[str, Any]:
    """What the self-check stages compare before and after (part of bench/round's check):
    duties and units that sent a version, by deliverable; items by state; the items' events
    by kind; the rungs chase messages covered; the last 整改台账 written."""
    from sqlalchemy import func, select

    from duban.ledger.schema import EventRow, InstanceRow, RectificationRow, SubmissionRow

    progress = (InstanceRow.deliverable_id == PROGRESS) & (InstanceRow.period == PERIOD)
    duty = (InstanceRow.deliverable_id == LISTS) | progress
    instances = dict(session.execute(
        select(InstanceRow.deliverable_id, func.count()).where(duty)
        .group_by(InstanceRow.deliverable_id)
    ).tuples().all())  # fmt: skip
    submitted = dict(session.execute(
        select(InstanceRow.deliverable_id, func.count(func.distinct(SubmissionRow.instance_id)))
        .join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id).where(duty)
        .group_by(InstanceRow.deliverable_id)
    ).tuples().all())  # fmt: skip
    items = dict(session.execute(
        select(RectificationRow.state, func.count()).group_by(RectificationRow.state)
    ).tuples().all())  # fmt: skip
    events = dict(session.execute(
        select(EventRow.kind, func.count())
        .where(EventRow.kind.like("rectification.%"))
        .group_by(EventRow.kind)
    ).tuples().all())  # fmt: skip
    covered = select(func.count()).select_from(EventRow).where(EventRow.kind == "chase.covered")
    ledger = session.scalars(
        select(EventRow.payload).where(EventRow.kind == "rectification.ledger-written")
        .order_by(EventRow.id.desc()).limit(1)
    ).first()  # fmt: skip
    return {
        "instances": {d: instances.get(d, 0) for d in (LISTS, PROGRESS)},
        "submitted": {d: submitted.get(d, 0) for d in (LISTS, PROGRESS)},
        "items": items, "events": events, "ledger": ledger,
        "covered": {
            "items": session.scalar(covered.where(EventRow.subject.like("item-rung:%"))),
            "duties": session.scalar(covered.where(EventRow.subject.like("rung:%"))),
        },
    }  # fmt: skip


def _step_lists(args: argparse.Namespace) -> int:
    """Every synthetic unit's problem list (``_fill_list``)."""
    return _replies(args, LISTS, "once", MOBILIZE_LISTS_AT, (LISTS_FROM, LISTS_TO), (), _fill_list)


def _step_progress(args: argparse.Namespace) -> int:
    """Every synthetic unit's progress report (``_fill_progress``), of a kind of ``SHARES``."""
    window = (PROGRESS_FROM, PROGRESS_TO)
    return _replies(args, PROGRESS, PERIOD, MOBILIZE_PROGRESS_AT, window, SHARES, _fill_progress)


def _replies(
    args: argparse.Namespace,
    deliverable: str,
    period: str,
    mobilized_at: str,
    window: tuple[str, str],
    shares: tuple[tuple[str, float], ...],
    fill: Callable[[tuple[str, int, bytes]], bytes],
) -> int:
    """The synthetic units' replies to a deliverable period's notices, each of a kind drawn by
    ``shares`` (bench/round's ``_cast``; the rest "valid"), the workbooks filled in worker
    processes (``fill((kind, n, template))``); each put in the Maildir at a moment of
    ``window`` and kept as a file for the collect floor."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    from duban.ledger.db import session_scope
    from duban.model.loader import load_campaign

    global _FORM
    sys.path.insert(0, str(base.ROOT))  # demo/, for the workers forked below
    started = time.perf_counter()
    config, work = base._config(args), Path(args.work)
    bundle = load_campaign(Path(config["campaign"]))
    _FORM = bundle.campaign.form(bundle.campaign.deliverable(deliverable).form)
    engine = base._engine(config)
    with session_scope(engine) as session:
        notices = base._notices_of(session, bundle, deliverable, period, mobilized_at)
    engine.dispose()
    cast = base._cast([notice.unit_id for notice in notices], shares, seed=deliverable)
    jobs = [(cast[notice.unit_id], n, notice.content) for n, notice in enumerate(notices)]
    fork = multiprocessing.get_context("fork")  # the workers inherit _FORM
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=fork) as pool:
        files = list(pool.map(fill, jobs, chunksize=20))
    first, last = (base._moment(moment) for moment in window)
    step = (last - first) / max(1, len(notices))
    which = "lists" if deliverable == LISTS else "progress"
    for n, (notice, data) in enumerate(zip(notices, files, strict=True)):
        when = first + step * n
        base._post(work, notice.reply(bundle, data, when), when)
        base._keep(work, which, notice.unit_id, data)
    counts = {kind: sum(1 for k in cast.values() if k == kind)
              for kind in ("valid", *(kind for kind, _ in shares))}  # fmt: skip
    return base._write(args, {"counts": counts, "seconds": time.perf_counter() - started})


# What each reply looks like is the demo's way of filling a form; which kind each unit sends
# is drawn above. The form is set in the step's process before its workers are forked.
_FORM: Any = None


def _fill_list(job: tuple[str, int, bytes]) -> bytes:
    """A problem list: the demo's rows for the form (``form_rows``) with distinct findings (a
    finding twice is one item) and the deadlines set, the first item due on ``FIRST_DUE``, the
    others on ``LATER_DUE``; filled as the demo fills a form (openpyxl)."""
    import random
    from datetime import date

    from demo.units import ISSUES, fill_form, form_rows

    _, n, template = job
    sheet = _FORM.sheets[0]
    rng = random.Random(n)
    rows = form_rows(sheet, rng, 2026, ITEMS)
    keys = [c.key for c in sheet.columns]
    deadlines = [date.fromisoformat(FIRST_DUE)] + [date.fromisoformat(LATER_DUE)] * (ITEMS - 1)
    for row, finding, due in zip(rows, rng.sample(ISSUES, ITEMS), deadlines, strict=True):
        row[keys.index("finding")], row[keys.index("due")] = finding, due
    data: bytes = fill_form(template, _FORM, {sheet.name: rows})
    return data


def _fill_progress(job: tuple[str, int, bytes]) -> bytes:
    """A progress report: its pre-filled template updated as the unit's kind says (progress
    written on every item, the first claimed or mistaken); the pre-filled cells (code, finding,
    measure, deadline) left as they are."""
    import io
    from datetime import date

    from openpyxl import load_workbook

    from duban.model.forms import FIRST_DATA_ROW

    kind, n, template = job
    first = FIRST_DATA_ROW  # the unit's first item (by number): the one due on FIRST_DUE
    sheet = _FORM.sheets[0]
    book = load_workbook(io.BytesIO(template))
    ws = book[sheet.name]
    at = {c.key: number for number, c in enumerate(sheet.columns, start=1)}
    for row in range(first, first + ITEMS):
        if ws.cell(row, at["item"]).value in (None, ""):
            raise RuntimeError(f"the template of unit {n} lists fewer than {ITEMS} items")
        ws.cell(row, at["progress"]).value = "已制定整改方案，召开专题会议部署，正在推进"
        ws.cell(row, at["state"]).value = "整改中"
    if kind in ("claim", "unsupported"):  # "unsupported": the evidence forgotten
        ws.cell(first, at["state"]).value = "已完成"
        ws.cell(first, at["completed_on"]).value = date.fromisoformat(COMPLETED_ON)
    if kind == "claim":
        ws.cell(first, at["evidence"]).value = "整改报告及新修订的制度文件"
    if kind == "wrong":
        ws.cell(first, at["state"]).value = "其他"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _step_floor_mail(args: argparse.Namespace) -> int:
    """The mailer alone, no ledger: a stage's own messages, built from duban's drafts out of
    the ledger the stage left: the lists' notices, the pre-filled progress notices (``listed``:
    the open items their templates hold), or the chase's messages of the day."""
    from sqlalchemy import select

    from duban.adapters.render import environment
    from duban.ledger.db import session_scope
    from duban.ledger.schema import InstanceRow
    from duban.mobilize.notices import Builders, notice_drafts
    from duban.model.loader import load_campaign

    config = base._config(args)
    bundle = load_campaign(Path(config["campaign"]))
    engine = base._engine(config)
    secret, env = base.SECRET.encode(), environment()
    listed = 0
    with session_scope(engine) as session:
        if args.what == "chase":
            drafts = _chase_drafts(session, bundle, env, secret)
        else:
            deliverable, period, at = ((LISTS, "once", MOBILIZE_LISTS_AT) if args.what == "lists"
                                       else (PROGRESS, PERIOD, MOBILIZE_PROGRESS_AT))  # fmt: skip
            instances = session.scalars(
                select(InstanceRow)
                .where(InstanceRow.deliverable_id == deliverable, InstanceRow.period == period)
                .order_by(InstanceRow.due_at, InstanceRow.unit_id)
            ).all()
            builders: Builders = {}
            drafts = notice_drafts(
                bundle, instances, secret=secret, env=env, now=base._moment(at),
                builders=builders, session=session,
            )  # fmt: skip
            prefill = builders[(deliverable, period)].prefill
            if prefill is not None:
                listed = sum(len(prefill.rows(i.unit_id)) for i in instances)
        figures = base._send_all(drafts, args.port, Path(config["cert"]))
    engine.dispose()
    figures.update(rate=figures["sent"] / figures["send_seconds"], listed=listed)
    return base._write(args, figures)


def _chase_drafts(session: Any, bundle: Any, env: Any, secret: bytes) -> list[Any]:
    """The messages of the day the chase sent (by the keys the ledger holds), drafted again as
    ``chase`` drafts them: what each unit owed, its progress template pre-filled as it stands."""
    from sqlalchemy import select

    from duban.implement.chase import unit_day_draft, with_open_items
    from duban.implement.owed import items_owed_now, owed_now
    from duban.implement.unit_day import unit_days
    from duban.ledger.schema import MessageRow

    as_of = base._moment(CHASE_ITEMS_AT)
    day = as_of.astimezone(bundle.campaign.zone).date()
    sent = set(session.scalars(select(MessageRow.idempotency_key).where(
        MessageRow.idempotency_key.like(f"chase:%:{day.isoformat()}"))))  # fmt: skip
    owed, items = owed_now(session, bundle, as_of), items_owed_now(session, bundle, as_of)
    days = [u for u in unit_days(bundle.campaign.id, day, owed, items) if u.key in sent]
    builders: dict[Any, Any] = {}
    duties = [(o.facts, u.unit.id) for u in days for o in u.duties]
    with_open_items(session, bundle, duties, secret=secret, env=env, as_of=as_of,
                    builders=builders)  # fmt: skip
    return [unit_day_draft(bundle, u, env=env, secret=secret, as_of=as_of, builders=builders)
            for u in days]  # fmt: skip


def _step_floor_ledger(args: argparse.Namespace) -> int:
    """The 整改台账 written from memory (the items read from the ledger first, not timed): by
    duban's writer, as the command writes it, then by bench/rectification's openpyxl
    write_only baseline, the same rows."""
    from importlib.machinery import SourceFileLoader
    from types import ModuleType

    from duban.ledger.db import session_scope
    from duban.model.loader import load_campaign
    from duban.selfcheck.commands import roll_of
    from duban.selfcheck.ledger import list_items
    from duban.selfcheck.rates import Rules
    from duban.selfcheck.workbook import write_rectification_ledger

    config, work = base._config(args), Path(args.work)
    bundle = load_campaign(Path(config["campaign"]))
    campaign = bundle.campaign
    engine = base._engine(config)
    with session_scope(engine) as session:
        items = list_items(session, campaign.id)
    engine.dispose()
    day = base._moment(CHASE_ITEMS_AT).date()
    rules = Rules(day, bundle.calendar, campaign.zone, roll_of(campaign))
    out = work / "floor-ledger"
    out.mkdir()
    started = time.perf_counter()
    stats = write_rectification_ledger(
        out / "duban.xlsx", items, bundle.units, rules=rules, language=campaign.language,
        title=campaign.title,
    )  # fmt: skip
    written = time.perf_counter()
    loader = SourceFileLoader("rectification", str(base.BENCH / "rectification"))
    baseline = ModuleType(loader.name)
    loader.exec_module(baseline)
    count = baseline.write_openpyxl(out / "openpyxl.xlsx", iter(items), list(bundle.units), rules)
    done = time.perf_counter()
    if count != stats.items:
        raise SystemExit(f"openpyxl wrote {count} items, duban {stats.items}")
    return base._write(args, {"items": stats.items, "seconds": written - started,
                              "openpyxl_seconds": done - written})  # fmt: skip


STEPS = {
    "selfcheck-lists": _step_lists,
    "selfcheck-progress": _step_progress,
    "floor-selfcheck-mail": _step_floor_mail,
    "floor-ledger": _step_floor_ledger,
}
