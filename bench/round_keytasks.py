"""The key tasks' stages of bench/round (牵头汇总、配合报送): partners report, then leads.

Issue 21 on the synthetic campaign: ``bench/round`` gives it one key task per 10 synthetic
units (bench/mobilize.py's ``synthetic_chains``: a synthetic lead and 3 synthetic partners
each, a quarter of the tasks sharing a partner with the task before, so that partner reports
on two tasks), beside the example's five, whose leads and partners are B units. At 10,000
units that is 1,000 chains, 3,750 units in them. The quarterly ``progress`` declares
``partners: {before_working_days: 5}``, so its first quarter runs: the partners' parts
(``progress-parts``) due 18 March, the leads' reports 25 March. Each stage is the real command
on the simulated clock:

    mobilize parts     2026-03-10 09:00  ``mobilize --deliverable progress-parts``: every
                                         partner its template, pre-filled with one row per
                                         key task it partners (the title locked)
    (setup)                              the synthetic partners' parts, each row's share
                                         written beside its locked title: 95 % in by 18
                                         March, 5 % late (the next morning, before the
                                         collect)
    collect parts      2026-03-19 09:00  the parts, answered
    chase lead copies  2026-03-19 09:30  the daily ``chase`` the day after the parts' due
                                         day: every lead its consolidated copy, carrying its
                                         partners' accepted rows (the example's five leads
                                         a copy with none: their B partners never report);
                                         run again at 10:00, it sends nothing
    (setup)                              the synthetic leads' replies to their copies: the
                                         partners' rows kept as sent, its own row filled
    collect leads      2026-03-25 18:00  the leads' reports, answered: every synthetic lead's
                                         accepted, with its partners' rows and its own

The floors are the round's kinds: the mailer alone sending the same pre-filled notices
(drafted from the ledger beforehand, not timed); the isolated readers and the mailer for the
collects; for the chase, the mailer alone sending the same copies (``lead_copy_drafts`` at
the same moment, the same keys as the ledger's, built beforehand). The checks: one notice a
partner, each template listing exactly the unit's key tasks (read back from every workbook in
the setup); every part accepted, the late ones recorded late; one copy a lead in the ledger
and at the sink (besides the day's other messages, counted apart), each synthetic lead's
holding exactly its 3 partners' rows, and none sent again; every synthetic lead's report
accepted with its partners' rows and its own.

Measured on 6 December 2026 at 500 units (``bench/round --units 500``, SQLite, the machine
shared with other test runs, so read the ratios): 50 synthetic chains, 187 units in them.

    stage               items          time     rate     floor  ratio  peak
    mobilize parts        145 notices  3.56 s   40.8/s  174.0/s  0.23  129 MB
    collect parts         137 replies  4.22 s   32.5/s   86.3/s  0.38  134 MB  (7 late)
    chase lead copies      55 copies   3.50 s   15.7/s  113.5/s  0.14  134 MB
    collect leads          50 replies  3.76 s   13.3/s   56.8/s  0.23  131 MB
    key tasks phase                   15.04 s  (of the round's 120.26 s, commands alone)

An earlier run, the machine busier, gave ratios 0.20, 0.20, 0.08 and 0.16 (25.14 s of
199.82 s). At this size each command is mostly its start-up: the chase run again, sending
nothing, took 3.47 s of the copies' 3.50 s. The chain's own arithmetic stays small at 10,000
units (1,000 chains): duban's ``partners_of`` for every lead takes 0.07 s, ``partnered`` for
every partner 0.25 s, on the same machine.

Like bench/round_selfcheck.py, this module imports only the standard library at its top and
reaches bench/round (its importer) as ``__main__``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import __main__ as base  # bench/round, which imports this module

LEAD, PARTS, PERIOD = "progress", "progress-parts", "2026-Q1"
SHEET, TASK = "进展情况", "task"  # the chain's sheet and its task column
MOBILIZE_PARTS_AT = "2026-03-10T09:00"
PARTS_FROM, PARTS_TO = "2026-03-10T10:00", "2026-03-18T17:00"  # the parts due 18 March
LATE_FROM = "2026-03-19T08:00"  # the late parts, 10 s apart, before the collect
COLLECT_PARTS_AT = "2026-03-19T09:00"
CHASE_AT = "2026-03-19T09:30"  # the day after the parts' due day: the leads' copies
AGAIN_AT = "2026-03-19T10:00"  # the chase run again: nothing more
LEADS_FROM, LEADS_TO = "2026-03-19T10:30", "2026-03-25T17:00"  # the leads' reports due 25 March
COLLECT_LEADS_AT = "2026-03-25T18:00"
SHARES = (("late", 0.05),)
"""The synthetic partners' parts by kind, the rest ("valid") in by the due day."""
COPY = "lead-copy"  # the copies' message kind
STAGE_TITLES = ("mobilize parts", "collect parts", "chase lead copies", "collect leads")


# --- the parent: the stages, each checked and beside its floor ------------------------------


def run(state: Any) -> None:
    """The key tasks' stages in order, each checked before the next (``RoundError``)."""
    _mobilize_parts(state)
    _setup(state, "parts")
    _collect_parts(state)
    _chase(state)
    _setup(state, "leads")
    _collect_leads(state)


def _mobilize_parts(state: Any) -> None:
    before, chains = state.figures["check"], state.figures["chains"]
    title = "mobilize parts"
    args = ["mobilize", str(state.campaign), "--deliverable", PARTS, "--period", PERIOD]
    with base._sink(state) as sink:
        run = base._command(state, title, args, MOBILIZE_PARTS_AT, sink.port)
    after = base._check(state, title)
    sent = base._delta(before, after, "notice")
    planned, synthetic = after["keytasks"]["instances"][PARTS], after["keytasks"]["synthetic"]
    if sent != planned or sink.received != planned or synthetic[PARTS] != chains["partners"]:
        raise base.RoundError(f"{title}: {planned} notices planned ({synthetic[PARTS]} to "
                              f"synthetic units, {chains['partners']} partner a synthetic "
                              f"task), the ledger says {sent} sent, the sink received "
                              f"{sink.received}")  # fmt: skip
    floor = base._mail_floor(state, "parts", "floor-keytasks-mail")
    if floor["listed"] != chains["pairs"]:
        raise base.RoundError(
            f"{title}: the synthetic partners' templates list "
            f"{floor['listed']} key tasks, they partner {chains['pairs']}"
        )
    row = base.Row(title, "notices", sent, run.seconds, run.peak_mb, floor["rate"])
    row.floor_note = "SmtpMailer alone, same pre-filled notices, one connection"
    row.notes.append(
        f"{chains['partners']} synthetic partners of {chains['tasks']} key tasks "
        f"({chains['twice']} in two) and {planned - chains['partners']} of the example's: "
        f"the synthetic templates list {floor['listed']} key tasks, a row each"
    )
    row.notes.append(base._mail_line(floor, sink))
    base._add(state, row, after)


def _setup(state: Any, what: str) -> None:
    """Setup, not a stage: the synthetic partners' parts or leads' reports, in the Maildir,
    each made from its template read back and checked (``_fill``)."""
    made, run = base._step(state.work, f"keytasks-{what}", f"keytasks-{what}")
    state.figures[f"keytasks-{what}"] = made
    kinds = ", ".join(f"{kind} {n}" for kind, n in made["counts"].items())
    base._say(f"{what} made in {run.seconds:.1f} s (setup, not timed) from {made['checked']} "
              f"templates, each holding the rows expected: {kinds}")  # fmt: skip


def _collect_parts(state: Any) -> None:
    before = state.figures["check"]
    counts = state.figures["keytasks-parts"]["counts"]
    parts = counts["valid"] + counts["late"]
    expected = {"accepted": parts, "rejected": 0, "quarantined": 0}
    title = "collect parts"
    row, after = base._collect_stage(state, title, COLLECT_PARTS_AT, "parts", expected)
    units = after["keytasks"]["submitted"][PARTS] - before["keytasks"]["submitted"][PARTS]
    late = after["submissions"]["late"] - before["submissions"]["late"]
    if units != parts or late != counts["late"]:
        raise base.RoundError(f"{title}: {parts} parts sent, {counts['late']} late; {units} "
                              f"partners with a version, {late} recorded late")  # fmt: skip
    row.notes.append(f"{units} partners' parts accepted, {late} of them late (after 18 March)")
    base._add(state, row, after)


def _chase(state: Any) -> None:
    """The day after the parts' due day: one copy a lead (and the day's other messages); run
    again, nothing; the floor sends the same copies."""
    before, chains = state.figures["check"], state.figures["chains"]
    title = "chase lead copies"
    with base._sink(state) as sink:
        run = base._command(state, title, ["chase", str(state.campaign)], CHASE_AT, sink.port)
    after = base._check(state, title)
    leads, copied = after["keytasks"]["instances"][LEAD], after["keytasks"]["copied"]
    copies, sent = base._delta(before, after, COPY), _sent(before, after)
    if copies != leads or copied != leads or sink.received != sent:
        raise base.RoundError(f"{title}: {leads} leads; the ledger sent {copies} copies to "
                              f"{copied} of them and {sent} messages in all, the sink got "
                              f"{sink.received}")  # fmt: skip
    with base._sink(state) as again_sink:
        again = base._command(state, f"{title} again", ["chase", str(state.campaign)],
                              AGAIN_AT, again_sink.port)  # fmt: skip
    again_after = base._check(state, f"{title} again")
    resent = _sent(after, again_after)
    if resent or again_sink.received:
        raise base.RoundError(f"{title} run again: the ledger says {resent} more sent, the "
                              f"sink received {again_sink.received}")  # fmt: skip
    floor = base._mail_floor(state, "copies", "floor-keytasks-mail")
    carried = 3 * chains["tasks"]
    if not floor["same"] or floor["complete"] != chains["tasks"] or floor["carried"] != carried:
        raise base.RoundError(f"{title}: the copies drafted again are "
                              f"{'' if floor['same'] else 'not '}those sent; "
                              f"{floor['complete']} synthetic leads' copies hold exactly their "
                              f"partners' rows, of {chains['tasks']}; {floor['carried']} "
                              f"partner rows, expected {carried}")  # fmt: skip
    row = base.Row(title, "copies", copies, run.seconds, run.peak_mb, floor["rate"])
    row.floor_note = "SmtpMailer alone, same copies, one connection"
    others = ", ".join(f"{n} {kind}" for kind, n in _kinds(before, after).items() if kind != COPY)
    row.notes += [
        f"one copy a lead: {chains['tasks']} synthetic, each carrying its 3 partners' rows "
        f"({floor['carried']} rows), {copies - chains['tasks']} of the example's leads (their "
        f"B partners never report); the day's other messages, not in the count: {others}",
        f"run again at {AGAIN_AT[11:]}: nothing sent, {again.seconds:.2f} s, peak "
        f"{again.peak_mb:.0f} MB",
        base._mail_line(floor, sink),
    ]  # fmt: skip
    base._add(state, row, again_after)


def _collect_leads(state: Any) -> None:
    before, chains = state.figures["check"], state.figures["chains"]
    leads = chains["tasks"]
    expected = {"accepted": leads, "rejected": 0, "quarantined": 0}
    title = "collect leads"
    row, after = base._collect_stage(state, title, COLLECT_LEADS_AT, "leads", expected)
    was, now = before["keytasks"], after["keytasks"]
    reported = now["synthetic_reported"] - was["synthetic_reported"]
    rows = now["lead_rows"] - was["lead_rows"]
    if reported != leads or rows != 4 * leads:
        raise base.RoundError(f"{title}: {reported} of {leads} synthetic leads' reports "
                              f"accepted, {rows} rows (expected {4 * leads}: 3 partners' and "
                              f"its own)")  # fmt: skip
    row.notes.append(f"every synthetic lead's report accepted ({reported}), {rows} rows: its "
                     f"3 partners' as they sent them and its own")  # fmt: skip
    base._add(state, row, after)


def _kinds(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Messages sent between two checks, by kind."""
    found = {}
    for key in after["messages"]:
        kind, _, status = key.partition("/")
        if status == "sent" and base._delta(before, after, kind):
            found[kind] = base._delta(before, after, kind)
    return found


def _sent(before: dict[str, Any], after: dict[str, Any]) -> int:
    return sum(_kinds(before, after).values())


# --- the steps, each in its own interpreter -------------------------------------------------


def chain_figures(units: int) -> dict[str, int]:
    """The synthetic key tasks' sizes, for the checks (in the prepare step: it imports duban)."""
    from mobilize import synthetic_chains  # bench/mobilize.py, bench/round's folder

    chains = synthetic_chains(units)
    partnered: dict[str, int] = {}
    for _, partners in chains:
        for partner in partners:
            partnered[partner] = partnered.get(partner, 0) + 1
    return {"tasks": len(chains), "partners": len(partnered), "pairs": sum(partnered.values()),
            "twice": sum(1 for n in partnered.values() if n > 1)}  # fmt: skip


def ledger_figures(session: Any) -> dict[str, Any]:
    """What the key tasks' stages compare before and after (part of bench/round's check), for
    the first quarter: duties by deliverable, all and the synthetic units'; synthetic units
    with a version; the synthetic leads' reported rows; leads sent a copy."""
    from sqlalchemy import func, select

    from duban.ledger.schema import InstanceRow, MessageRow, SubmissionRow

    chain = InstanceRow.deliverable_id.in_([LEAD, PARTS]) & (InstanceRow.period == PERIOD)
    synthetic = chain & InstanceRow.unit_id.like("U%")
    by_deliverable = select(InstanceRow.deliverable_id, func.count()).group_by(
        InstanceRow.deliverable_id
    )
    instances = dict(session.execute(by_deliverable.where(chain)).tuples().all())
    mine = dict(session.execute(by_deliverable.where(synthetic)).tuples().all())
    versions = select(
        InstanceRow.deliverable_id, func.count(func.distinct(SubmissionRow.instance_id))
    ).join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
    submitted = dict(session.execute(versions.where(synthetic).group_by(
        InstanceRow.deliverable_id)).tuples().all())  # fmt: skip
    lead = synthetic & (InstanceRow.deliverable_id == LEAD)
    rows = session.scalar(select(func.sum(SubmissionRow.row_count))
                          .join(InstanceRow, InstanceRow.id == SubmissionRow.instance_id)
                          .where(lead))  # fmt: skip
    copied = session.scalar(
        select(func.count(func.distinct(MessageRow.instance_id)))
        .join(InstanceRow, InstanceRow.id == MessageRow.instance_id)
        .where(MessageRow.kind == COPY, MessageRow.status == "sent", chain)
    )  # fmt: skip
    return {
        "instances": {d: instances.get(d, 0) for d in (LEAD, PARTS)},
        "synthetic": {d: mine.get(d, 0) for d in (LEAD, PARTS)},
        "submitted": {d: submitted.get(d, 0) for d in (LEAD, PARTS)},
        "synthetic_reported": submitted.get(LEAD, 0),
        "lead_rows": int(rows or 0), "copied": int(copied or 0),
    }  # fmt: skip


def _step_parts(args: argparse.Namespace) -> int:
    """Every synthetic partner's part: its template (as mobilize sent it) read back, checked to
    list exactly its key tasks, and its share written beside each; most put in the Maildir in
    time, ``SHARES`` late."""
    from datetime import timedelta

    from mobilize import synthetic_chains, synthetic_task_title

    started = time.perf_counter()
    config = base._config(args)
    tasks: dict[str, list[str]] = {}
    for k, (_, partners) in enumerate(synthetic_chains(config["units"])):
        for partner in partners:
            tasks.setdefault(partner, []).append(synthetic_task_title(k))
    bundle, keys, notices = _notices(args, PARTS, MOBILIZE_PARTS_AT)
    cast = base._cast([n.unit_id for n in notices], SHARES, seed=PARTS)
    jobs = [(n.unit_id, tasks.get(n.unit_id, []), [], keys, n.content) for n in notices]
    files = _filled(jobs)
    first, last = base._moment(PARTS_FROM), base._moment(PARTS_TO)
    late = base._moment(LATE_FROM)
    step = (last - first) / max(1, len(notices))
    for n, (notice, data) in enumerate(zip(notices, files, strict=True)):
        is_late = cast[notice.unit_id] == "late"
        when = late + timedelta(seconds=10 * n) if is_late else first + step * n
        base._post(Path(args.work), notice.reply(bundle, data, when), when)
        base._keep(Path(args.work), "parts", notice.unit_id, data)
    counts = {kind: sum(1 for k in cast.values() if k == kind) for kind in ("valid", "late")}
    return base._write(args, {"counts": counts, "checked": len(files),
                              "seconds": time.perf_counter() - started})  # fmt: skip


def _step_leads(args: argparse.Namespace) -> int:
    """Every synthetic lead's report: its copy (as the chase sent it) read back, checked to
    hold exactly its partners' rows and one row of its own, which it fills, keeping theirs."""
    from mobilize import synthetic_chains, synthetic_task_title

    started = time.perf_counter()
    config = base._config(args)
    bundle, keys, copies = _notices(args, LEAD, CHASE_AT)
    names = {u.id: u.name for u in bundle.units}
    chains = {lead: (synthetic_task_title(k), [(names[p], p) for p in partners])
              for k, (lead, partners) in enumerate(synthetic_chains(config["units"]))}  # fmt: skip
    if sorted(chains) != [c.unit_id for c in copies]:
        raise SystemExit(f"{len(copies)} copies to synthetic leads, {len(chains)} leads")
    jobs = [(c.unit_id, [chains[c.unit_id][0]], chains[c.unit_id][1], keys, c.content)
            for c in copies]  # fmt: skip
    files = _filled(jobs)
    first, last = base._moment(LEADS_FROM), base._moment(LEADS_TO)
    step = (last - first) / max(1, len(copies))
    for n, (copy, data) in enumerate(zip(copies, files, strict=True)):
        when = first + step * n
        base._post(Path(args.work), copy.reply(bundle, data, when), when)
        base._keep(Path(args.work), "leads", copy.unit_id, data)
    return base._write(args, {"counts": {"valid": len(copies)}, "checked": len(files),
                              "seconds": time.perf_counter() - started})  # fmt: skip


def _notices(args: argparse.Namespace, deliverable: str, at: str) -> tuple[Any, list[str], Any]:
    """The campaign, the chain sheet's column keys in ``deliverable``'s form, and the
    synthetic units' messages to answer: the partners' notices as mobilize sent them, or
    the leads' copies as the chase sent them (``_copies``)."""
    from duban.ledger.db import session_scope
    from duban.model.loader import load_campaign

    config = base._config(args)
    bundle = load_campaign(Path(config["campaign"]))
    campaign = bundle.campaign
    form = campaign.form_of(campaign.deliverable(deliverable))
    keys = [c.key for c in next(s for s in form.sheets if s.name == SHEET).columns]
    engine = base._engine(config)
    with session_scope(engine) as session:
        if deliverable == PARTS:
            found = base._notices_of(session, bundle, PARTS, PERIOD, at)
        else:
            found = _copies(session, bundle)
    engine.dispose()
    return bundle, keys, found


def _copies(session: Any, bundle: Any) -> list[Any]:
    """The synthetic leads' copies as the chase sent them, in unit order: drafted again at the
    same moment (the same key, so the same parts) and composed with the recorded Message-ID."""
    from email.message import EmailMessage

    from sqlalchemy import select

    from duban.adapters.render import environment
    from duban.implement.leadcopy import lead_copy_drafts, lead_duties
    from duban.ledger.schema import InstanceRow, MessageRow

    drafts = lead_copy_drafts(session, bundle, lead_duties(session, bundle),
                              now=base._moment(CHASE_AT), env=environment(),
                              secret=base.SECRET.encode(), deliverable=LEAD)  # fmt: skip
    ids = dict(session.execute(select(MessageRow.idempotency_key, MessageRow.message_id)
                               .where(MessageRow.kind == COPY)).tuples().all())  # fmt: skip
    leads = dict(session.execute(
        select(InstanceRow.id, InstanceRow.unit_id)
        .where(InstanceRow.deliverable_id == LEAD, InstanceRow.period == PERIOD,
               InstanceRow.unit_id.like("U%"))
    ).tuples().all())  # fmt: skip
    copies = []
    for draft in drafts:
        if draft.instance_id not in leads:
            continue
        sent = draft.compose(str(ids[draft.key]))  # KeyError: the chase did not send this one
        headers = EmailMessage()
        headers["Subject"], headers["Message-ID"] = sent.subject, sent.message_id
        headers["Reply-To"] = sent.headers["Reply-To"]
        attached = sent.attachments[0]
        unit_id = leads[draft.instance_id]
        copies.append(base.Notice(unit_id, headers, attached.filename, attached.content))
    return sorted(copies, key=lambda c: c.unit_id)


def _filled(jobs: list[Any]) -> list[bytes]:
    """The workbooks filled in worker processes (``_fill``), as the round's other replies."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=fork) as pool:
        return list(pool.map(_fill, jobs, chunksize=20))


def _fill(job: tuple[str, list[str], list[tuple[str, str]], list[str], bytes]) -> bytes:
    """A template read back and answered as a unit answers it in Excel (openpyxl here).

    ``titles``: the key tasks the unit's own rows must be about, in order, each its title
    pre-filled; ``partners``: (name, id) of each partner whose row a lead's copy must hold,
    named in 报送单位 with the share the partner wrote (which begins with its id). Anything
    else in the rows stops the step. Each own row's share is written beside its title; the
    partners' rows are left as they are."""
    import io

    from openpyxl import load_workbook

    from duban.model.campaign import REPORTED_BY
    from duban.model.forms import FIRST_DATA_ROW

    unit_id, titles, partners, keys, template = job
    book = load_workbook(io.BytesIO(template))
    ws = book[SHEET]
    at = {key: number for number, key in enumerate(keys, start=1)}
    filled, row = [], FIRST_DATA_ROW
    while ws.cell(row, at[TASK]).value not in (None, ""):
        filled.append(row)
        row += 1
    theirs = [r for r in filled if REPORTED_BY in at and ws.cell(r, at[REPORTED_BY]).value]
    own = [r for r in filled if r not in theirs]
    held = sorted((str(ws.cell(r, at[REPORTED_BY]).value),
                   str(ws.cell(r, at["progress"]).value).split("：", 1)[0],
                   ws.cell(r, at[TASK]).value) for r in theirs)  # fmt: skip
    want = sorted((name, partner, titles[0]) for name, partner in partners)
    if held != want or [ws.cell(r, at[TASK]).value for r in own] != titles:
        raise RuntimeError(f"{unit_id}'s template holds {held} and its own rows "
                           f"{[ws.cell(r, at[TASK]).value for r in own]}; expected {want} and "
                           f"{titles}")  # fmt: skip
    for n, row in enumerate(own):
        share = {"progress": f"{unit_id}：按分工推进本单位承担的部分，已完成阶段任务",
                 "percent": 40 + 10 * n, "issues": "无", "next_steps": "继续推进",
                 "reporter": "李四", "phone": "13800000000"}  # fmt: skip
        for key, value in share.items():
            ws.cell(row, at[key]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _step_floor_mail(args: argparse.Namespace) -> int:
    """The mailer alone, no ledger: the stage's messages drafted from the ledger it left, the
    partners' pre-filled notices (``listed``: the key tasks the synthetic partners' templates
    list) or the leads' copies (``same``: the keys the ledger sent; ``complete``: synthetic
    leads whose copy holds exactly their partners' parts; ``carried``: those parts' rows)."""
    from sqlalchemy import select

    from duban.adapters.render import environment
    from duban.implement.leadcopy import lead_copy_drafts, lead_duties
    from duban.ledger.db import session_scope
    from duban.ledger.schema import MessageRow
    from duban.mobilize.notices import Builders, notice_drafts, select_instances
    from duban.model.loader import load_campaign

    config = base._config(args)
    bundle = load_campaign(Path(config["campaign"]))
    engine = base._engine(config)
    secret, env = base.SECRET.encode(), environment()
    found: dict[str, Any] = {}
    with session_scope(engine) as session:
        if args.what == "parts":
            now = base._moment(MOBILIZE_PARTS_AT)  # the duties as mobilize selects them
            instances = select_instances(session, bundle, PARTS, period=PERIOD, unit_ids=None,
                                         now=now)  # fmt: skip
            builders: Builders = {}
            drafts = notice_drafts(bundle, instances, secret=secret, env=env, now=now,
                                   builders=builders, session=session)  # fmt: skip
            fill = builders[(PARTS, PERIOD)].prefill
            assert fill is not None
            found["listed"] = sum(len(fill.rows(i.unit_id)[0]) for i in instances
                                  if i.unit_id.startswith("U"))  # fmt: skip
        else:
            drafts = lead_copy_drafts(session, bundle, lead_duties(session, bundle),
                                      now=base._moment(CHASE_AT), env=env, secret=secret,
                                      deliverable=LEAD)  # fmt: skip
            sent = session.scalars(select(MessageRow.idempotency_key).where(
                MessageRow.kind == COPY, MessageRow.status == "sent"))  # fmt: skip
            found["same"] = {d.key for d in drafts} == set(sent)
            found.update(_carried(session, bundle, config["units"]))
        figures = base._send_all(drafts, args.port, Path(config["cert"]))
    engine.dispose()
    figures.update(found, rate=figures["sent"] / figures["send_seconds"])
    return base._write(args, figures)


def _carried(session: Any, bundle: Any, units: int) -> dict[str, int]:
    """The partners' parts the synthetic leads' copies hold (duban's ``PartFill``, read now),
    against bench/mobilize.py's layout: leads holding exactly their partners', and the rows."""
    from mobilize import synthetic_chains

    from duban.implement.parts import chain_of
    from duban.mobilize.partfill import PartFill

    campaign = bundle.campaign
    chain = chain_of(campaign, campaign.deliverable(LEAD))
    assert chain is not None
    fill = PartFill(bundle, chain, LEAD, PERIOD)
    chains = synthetic_chains(units)
    fill.load(session, [lead for lead, _ in chains])
    latest = {lead: fill.latest(lead) for lead, _ in chains}
    return {
        "complete": sum(sorted(latest[lead]) == sorted(partners) for lead, partners in chains),
        "carried": sum(len(rows) for parts in latest.values() for rows in parts.values()),
    }


STEPS = {
    "keytasks-parts": _step_parts,
    "keytasks-leads": _step_leads,
    "floor-keytasks-mail": _step_floor_mail,
}
