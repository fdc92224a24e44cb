"""The evaluation stages of bench/round (评议考核), after the inspection's.

``duban evaluate compute`` on the synthetic campaign as the coordinator types it: every unit's
figures read from the ledger as of the close (its duties, the inspection round, its items),
scored, ranked within groups, explained line by line, and recorded with the inputs kept and
hashed. Its floor is the computation alone, ``duban.evaluate.evaluation.evaluate`` over the
same figures read back from the recorded inputs, in memory, in a process of its own: what the
command adds is the start-up, reading the ledger and recording. The stage checks that every
grouped unit was scored and that the floor's result has the recorded hash.

``duban evaluate publish`` the next working day: the publication and its appeal window
recorded, then every unit mailed its preliminary score sheet (得分说明) and appeal form
(复核申请表), the sheet written under the
outputs folder as it is attached. The stage checks that the sink received one message a scored
unit and the ledger says as many sent, that the publication was recorded once, and that a
second run sends nothing (its time is a note). Its floor, in a process of its own: the same
sheets written from memory by ``write_score_sheet`` and their appeal forms made (the
workbook floor, timed), then ``SmtpMailer`` sending the same messages over one connection
(duban's own drafts, built beforehand and not timed), in series.

The dates: the appeal window runs ``scoring.appeal_days`` (5) working days after the day of
publication, and chinese-calendar knows no year after 2026, so the result is computed at the
close on Friday 18 December and published on Monday 21 December (the window closes on 28
December); the inspection's draw, on 15 December, comes before the close.

Like bench/round_inspect.py, this module imports only the standard library at its top and
reaches bench/round (its importer) as ``__main__``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import __main__ as base  # bench/round, which imports this module

LABEL = "2026"
EVALUATE_AT = "2026-12-18T18:00"  # a Friday: the close (compute's default: now)
PUBLISH_AT = "2026-12-21T09:00"  # the Monday after: the window's 5 working days stay in 2026
AGAIN_AT = "2026-12-21T09:30"  # the coordinator runs publish again: nothing more goes out
SHEET_KIND = "evaluation-sheet"
STAGE_TITLES = ("evaluate compute", "evaluate publish")


def run(state: Any) -> None:
    _compute(state)
    _publish(state)


def _compute(state: Any) -> None:
    args = ["evaluate", "compute", str(state.campaign), "--label", LABEL]
    run = base._command(state, "evaluate compute", args, EVALUATE_AT)
    floor = base._step(state.work, "floor-evaluate", "floor-evaluate")[0]
    if floor["scored"] != floor["grouped"]:
        raise base.RoundError(f"evaluate compute scored {floor['scored']} units, expected "
                              f"{floor['grouped']} (every unit of a ranking group)")  # fmt: skip
    if floor["recomputed"] != floor["recorded"]:
        raise base.RoundError("evaluate compute recorded a result its inputs do not give")
    units = floor["scored"]
    state.figures["scored"] = units
    row = base.Row("evaluate compute", "units", units, run.seconds, run.peak_mb,
                   units / floor["seconds"])  # fmt: skip
    row.floor_note = "evaluate() over the recorded figures, in memory"
    row.notes.append(
        f"{units} units scored and explained ({floor['lines']} sheet lines); the floor's "
        f"computation {floor['seconds']:.2f} s"
    )
    base._add(state, row, state.figures.get("check", {}))


def _publish(state: Any) -> None:
    """Publish, check one message a scored unit at the sink and in the ledger; publish again,
    check nothing more went out; the floor."""
    before, units = state.figures["check"], state.figures["scored"]
    args = ["evaluate", "publish", str(state.campaign), "--label", LABEL]
    with base._sink(state) as sink:
        run = base._command(state, "evaluate publish", args, PUBLISH_AT, sink.port)
    after = base._check(state, "evaluate publish")
    sent = base._delta(before, after, SHEET_KIND)
    if sent != units or sink.received != units:
        raise base.RoundError(f"evaluate publish: {units} units scored, the ledger says {sent} "
                              f"sheets sent, the sink received {sink.received}")  # fmt: skip
    with base._sink(state) as again_sink:
        again = base._command(state, "evaluate publish again", args, AGAIN_AT, again_sink.port)
    again_after = base._check(state, "evaluate publish again")
    resent = base._delta(after, again_after, SHEET_KIND)
    if resent or again_sink.received:
        raise base.RoundError(f"evaluate publish run again: the ledger says {resent} more "
                              f"sent, the sink received {again_sink.received}")  # fmt: skip
    floor = _publish_floor(state)
    if floor["publications"] != 1:
        raise base.RoundError(f"evaluate publish: {floor['publications']} publications "
                              "recorded, expected 1 (the second run records none)")  # fmt: skip
    if floor["kept"] != units:
        raise base.RoundError(f"evaluate publish kept {floor['kept']} sheets under the outputs "
                              f"folder, expected {units}")  # fmt: skip
    seconds = floor["sheet_seconds"] + floor["send_seconds"]
    row = base.Row("evaluate publish", "units", sent, run.seconds, run.peak_mb, units / seconds)
    row.floor_note = "same sheets and appeal forms + SmtpMailer, same messages, in series"
    row.notes += [
        f"floor: write_score_sheet and the appeal form, {floor['sheets']} units in "
        f"{floor['sheet_seconds']:.2f} s "
        f"({floor['sheets'] / floor['sheet_seconds']:.0f}/s, the workbook floor; "
        f"{floor['identical']} byte-identical to the command's) + the mailer "
        + base._mail_line(floor, sink).removeprefix("floor: "),
        f"appeals close {floor['closes']}; run again at {AGAIN_AT[11:]}: nothing sent, "
        f"{again.seconds:.2f} s, peak {again.peak_mb:.0f} MB",
    ]  # fmt: skip
    base._add(state, row, again_after)


def _publish_floor(state: Any) -> dict[str, Any]:
    """The floor step, to a sink of its own, which must receive every message it sent."""
    with base._sink(state) as sink:
        floor = base._step(state.work, "floor-publish", "floor-publish",
                           "--port", str(sink.port))[0]  # fmt: skip
    if sink.received != floor["sent"] or floor["sent"] != floor["sheets"]:
        raise base.RoundError(f"floor publish: {floor['sheets']} sheets, sent {floor['sent']}, "
                              f"the sink received {sink.received}")  # fmt: skip
    return floor


def _step_floor(args: argparse.Namespace) -> int:
    """Read the recorded evaluation back, time the computation over its own inputs."""
    from sqlalchemy import func, select

    from duban.evaluate.evaluation import evaluate
    from duban.evaluate.scores import unit_groups
    from duban.evaluate.snapshot import figures_from_json, result_json, sha256
    from duban.ledger.db import session_scope
    from duban.ledger.schema import EvaluationRow, EvaluationScoreRow
    from duban.model.loader import load_campaign

    config = base._config(args)
    bundle = load_campaign(config["campaign"])
    engine = base._engine(config)
    with session_scope(engine) as session:
        row = session.scalars(select(EvaluationRow)).one()
        scored = session.scalar(select(func.count()).select_from(EvaluationScoreRow))
        inputs, seed, digest = row.inputs, row.seed, row.result_digest
    engine.dispose()
    scoring = bundle.campaign.scoring
    groups = unit_groups(scoring, bundle.units_by_id.values())
    started = time.perf_counter()
    result = evaluate(scoring, groups, figures_from_json(inputs), seed)
    seconds = time.perf_counter() - started
    return base._write(args, {
        "seconds": seconds, "scored": scored, "grouped": len(groups),
        "lines": sum(len(s.lines) for s in result.sheets),
        "recorded": digest, "recomputed": sha256(result_json(result)),
    })  # fmt: skip


def _step_floor_publish(args: argparse.Namespace) -> int:
    """Publish's floor, no ledger written: every unit's score sheet written from memory by
    ``write_score_sheet`` and its appeal form made (timed), then the same messages as the
    stage's (duban's composer, the recorded window, the files just made) sent over one
    connection; also what the stage left to compare: its publications and the sheets it
    kept."""
    from duban.adapters.render import environment
    from duban.evaluate import runs
    from duban.evaluate.appealsheets import AppealFormBuilder
    from duban.evaluate.commands import report_of
    from duban.evaluate.publication import PUBLISHED_EVENT, publication
    from duban.evaluate.publish import UnitFiles, _Composer
    from duban.evaluate.workbook import write_score_sheet
    from duban.ledger.db import session_scope
    from duban.model.loader import load_campaign

    config, work = base._config(args), Path(args.work)
    bundle = load_campaign(Path(config["campaign"]))
    campaign_id = bundle.campaign.id
    engine = base._engine(config)
    with session_scope(engine) as session:
        row = runs.latest_or_fail(session, campaign_id, LABEL)
        report, version = report_of(bundle, row), row.version
        window = publication(session, campaign_id, LABEL)
        publications = _events(session, campaign_id, PUBLISHED_EVENT)
    engine.dispose()
    assert window is not None  # the stage recorded it
    units = [p.unit_id for p in report.evaluation.placings]
    out = work / "floor-publish"
    out.mkdir()
    started = time.perf_counter()
    forms_of = AppealFormBuilder(
        bundle, LABEL, window.appeals_close, str(config["secret"]).encode()
    )
    forms = {}
    for unit_id in units:
        write_score_sheet(report, unit_id, out / f"{unit_id}.xlsx")
        forms[unit_id] = forms_of.workbook(report, unit_id)
    sheet_seconds = time.perf_counter() - started
    sheets = {u: (out / f"{u}.xlsx").read_bytes() for u in units}
    files = UnitFiles(lambda u: f"{u}.xlsx", sheets.__getitem__,
                      lambda u: f"appeal-{u}.xlsx", forms.__getitem__)  # fmt: skip
    composer = _Composer(bundle, report, version, files, window, environment(),
                         base._moment(PUBLISH_AT))  # fmt: skip
    drafts = [composer.draft(bundle.unit(u)) for u in units]
    figures = base._send_all(drafts, args.port, Path(config["cert"]))
    kept = _kept(Path(config["home"]), report, version)
    figures.update(
        sheets=len(units), sheet_seconds=sheet_seconds, publications=publications,
        closes=window.appeals_close.isoformat(timespec="minutes"), kept=len(kept),
        identical=sum(kept.get(report.name(u)) == sheets[u] for u in units),
    )  # fmt: skip
    return base._write(args, figures)


def _events(session: Any, campaign_id: str, kind: str) -> int:
    from sqlalchemy import func, select

    from duban.ledger.schema import EventRow

    query = select(func.count()).where(EventRow.campaign_id == campaign_id, EventRow.kind == kind)
    return int(session.scalar(query) or 0)


def _kept(home: Path, report: Any, version: int) -> dict[str, bytes]:
    """The sheets the stage kept under the outputs folder, by unit name (the file's name
    without 得分说明-)."""
    folders = list(home.rglob(f"得分说明-{LABEL}-v{version}"))
    return {
        path.stem.removeprefix("得分说明-"): path.read_bytes()
        for folder in folders
        for path in folder.glob("*.xlsx")
    }


STEPS = {"floor-evaluate": _step_floor, "floor-publish": _step_floor_publish}
