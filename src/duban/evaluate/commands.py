"""The coordinator's evaluation commands as the CLI and the flows run them, composed with a
``Runtime``: each opens one session and calls one step (of ``runs``; ``ballot_send`` for the
ballots, ``adjustments`` for the bonuses and penalties)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import parse_moment
from duban.errors import DubanError
from duban.evaluate import runs
from duban.evaluate.adjustments import plan_adjustments
from duban.evaluate.appealsheets import AppealFormBuilder
from duban.evaluate.ballot_send import (
    BallotSendReport,
    default_label,
    public_evaluation,
    send_ballots,
)
from duban.evaluate.publication import publication, published_versions
from duban.evaluate.publish import (
    PublishReport,
    UnitFiles,
    changed_units,
    open_publication,
    send_decision,
    send_sheets,
)
from duban.evaluate.report import EvaluationReport, version_report
from duban.evaluate.runs import Computed, Correction, Verdict
from duban.implement.duties import end_of_day
from duban.ledger.db import hold_write_lock
from duban.ledger.schema import AdjustmentRow, EvaluationRow
from duban.ledger.store import append_event

if TYPE_CHECKING:
    from duban.model.loader import CampaignBundle
    from duban.runtime import Runtime


def label_of(rt: Runtime, label: str | None) -> str:
    """The evaluation's name: as given, or the year of the campaign's evaluation phase."""
    return label or default_label(rt.bundle, rt.clock.now())


def compute(
    rt: Runtime,
    label: str | None = None,
    *,
    closes_at: datetime | None = None,
    seed: str | None = None,
    actor: str = "coordinator",
) -> Computed:
    with rt.session() as session:
        return runs.compute(session, rt.bundle, label_of(rt, label), rt.clock, actor,
                            closes_at=closes_at, seed=seed)  # fmt: skip


@dataclass(frozen=True)
class Lodged:
    appeal_id: int
    new: bool


def appeal(
    rt: Runtime, unit_id: str, line: str, statement: str, label: str | None = None
) -> Lodged:
    with rt.session() as session:
        row, new = runs.lodge_appeal(session, rt.bundle, label_of(rt, label), unit_id,
                                     line, statement, rt.clock)  # fmt: skip
        return Lodged(row.id, new)


@dataclass(frozen=True)
class Decided:
    appeal_id: int
    state: str
    version: int | None
    """The version computed with the correction (an upheld appeal), else None."""
    told: bool = False
    """Whether the unit was mailed the decision now (only once the result was published,
    and only once)."""


def decide(
    rt: Runtime,
    appeal_id: int,
    reason: str,
    *,
    correction: tuple[str, Decimal] | None = None,
    label: str | None = None,
    actor: str = "coordinator",
) -> Decided:
    fix = None if correction is None else Correction(*correction)
    name = label_of(rt, label)
    with rt.session() as session:
        row, computed = runs.decide_appeal(session, rt.bundle, name, appeal_id, reason,
                                           rt.clock, actor, fix)  # fmt: skip
        version = None if computed is None else computed.row.version
        told = False
        if row.state != runs.OPEN and publication(session, rt.bundle.campaign.id, name):
            session.commit()  # the decision stands whether or not the mail goes out
            with rt.mailer() as mailer:
                told = send_decision(session, rt.bundle, row, version, mailer=mailer,
                                     clock=rt.clock, env=rt.env)  # fmt: skip
        return Decided(row.id, row.state, version, told)


def correction_of(text: str, field: str) -> tuple[str, Decimal]:
    """``timeliness=1`` as (source, value): the correction an upheld appeal makes."""
    source, _, value = text.partition("=")
    try:
        return source.strip(), Decimal(value.strip())
    except InvalidOperation:
        raise DubanError(
            f"{field} wants SOURCE=VALUE, not {text!r}",
            hint="e.g. timeliness=1 (a rate) or inspection=96 (points)",
            zh=f"{field} 应为 来源=数值，而不是 {text!r}",
            zh_hint="例如 timeliness=1 或 inspection=96",
        ) from None


def freeze(rt: Runtime, label: str | None = None, actor: str = "coordinator") -> tuple[int, bool]:
    with rt.session() as session:
        row, now = runs.freeze(session, rt.bundle, label_of(rt, label), rt.clock, actor)
        return row.version, now


def verify(rt: Runtime, label: str | None = None) -> Verdict:
    with rt.session() as session:
        return runs.verify(session, rt.bundle, label_of(rt, label))


@dataclass(frozen=True)
class Status:
    label: str
    versions: list[tuple[int, str, datetime, datetime, str, str]]
    """Each version: number, state, computed at, close, seed, result hash."""
    appeals: list[tuple[int, str, str, str, str | None]]
    """Each appeal: number, unit, line, state, decision."""


def status(rt: Runtime, label: str | None = None) -> Status:
    name = label_of(rt, label)
    with rt.session() as session:
        versions = [(r.version, r.state, r.computed_at, r.closes_at, r.seed, r.result_digest)
                    for r in runs.runs_of(session, rt.bundle.campaign.id, name)]  # fmt: skip
        appeals = [(a.id, a.unit_id, a.line, a.state, a.decision)
                   for a in runs.appeals_of(session, rt.bundle.campaign.id, name)]  # fmt: skip
    return Status(name, versions, appeals)


@dataclass(frozen=True)
class ImportedAdjustments:
    name: str
    sha256: str
    rows: int
    new: int


def import_adjustments(rt: Runtime, path: Path, actor: str = "coordinator") -> ImportedAdjustments:
    """The coordinator's spreadsheet of bonuses and penalties: every row checked first
    (``AdjustmentFileError`` lists every problem, nothing recorded), each row then recorded
    once by its place in the file, the bytes kept in the raw store, one event."""
    from duban.implement.intake.rawstore import RawStore
    from duban.selfcheck.commands import read_file
    from duban.selfcheck.importing import read_grid

    bundle = rt.bundle
    if not any(s.kind == "adjustments" for s in bundle.campaign.scoring.sources):
        raise DubanError(
            "the campaign's scoring has no adjustments source: bonuses and penalties would "
            "count for nothing",
            hint="add one to scoring.sources, e.g. {id: adjustments, weight: 10}",
            zh="活动文件的 scoring 中没有加减分（adjustments）来源，导入的加减分不会计入得分",
            zh_hint="请在 scoring.sources 中加上，如 {id: adjustments, weight: 10}",
        )
    data = read_file(path)
    sha = hashlib.sha256(data).hexdigest()
    lines = plan_adjustments(read_grid(data, path.name), bundle.units, sha=sha, name=path.name)
    campaign_id = bundle.campaign.id
    with rt.session() as session:
        hold_write_lock(session.connection(), f"adjustments:{campaign_id}")
        known = set(session.scalars(select(AdjustmentRow.ref).where(
            AdjustmentRow.campaign_id == campaign_id,
            AdjustmentRow.ref.in_([line.ref for line in lines]),
        )))  # fmt: skip
        fresh = [line for line in lines if line.ref not in known]
        if fresh:
            RawStore(rt.settings.raw_store, rt.settings.store_flush).put(data)
            for line in fresh:
                session.add(AdjustmentRow(
                    campaign_id=campaign_id, unit_id=line.unit_id, points=line.points,
                    reason=line.reason, evidence=line.evidence, ref=line.ref,
                    recorded_at=rt.clock.now(), recorded_by=actor,
                ))  # fmt: skip
            append_event(session, rt.clock, "evaluation.adjustments-imported",
                         campaign_id=campaign_id, subject=f"import:{sha}", actor=actor,
                         payload={"file": path.name, "sha256": sha, "rows": len(lines),
                                  "new": len(fresh)})  # fmt: skip
    return ImportedAdjustments(path.name, sha, len(lines), len(fresh))


def ballots(rt: Runtime, source_id: str, label: str | None, closes: str | None) -> BallotSendReport:
    """Send each evaluator of the register their ballot for the round, once; ``closes`` (an
    ISO date, the whole day counting, or a local time) is needed the first time."""
    bundle = rt.bundle
    public_evaluation(bundle, source_id)  # a mistyped source is named before anything opens
    round_label = label_of(rt, label)
    with rt.session() as session, rt.mailer() as mailer:
        return send_ballots(
            session, bundle, source_id, round_label, closes=close_of(rt, closes),
            mailer=mailer, clock=rt.clock, secret=rt.secret, env=rt.env,
        )  # fmt: skip


def close_of(rt: Runtime, text: str | None) -> datetime | None:
    """``--closes``: a bare date closes at the end of that day, as a due day does; a time is
    local to the campaign unless it carries an offset."""
    if text is None:
        return None
    try:
        if len(text.strip()) == 10:
            return end_of_day(date.fromisoformat(text.strip()), rt.bundle)
        return parse_moment(text, rt.bundle.campaign.zone)
    except ValueError:
        raise DubanError(
            f"--closes: {text!r} is not a date or time",
            hint="write 2026-12-18 (the whole day counts) or 2026-12-18T17:30",
            zh=f"--closes：{text!r} 不是有效的日期或时间",
            zh_hint="请写成 2026-12-18（当天24:00截止）或 2026-12-18T17:30",
        ) from None


@dataclass(frozen=True)
class Outputs:
    """The files an evaluation's version was written to."""

    ranking: Path
    accountability: Path
    docx: Path
    html: Path
    comments: Path


def write_outputs(rt: Runtime, label: str | None = None) -> Outputs:
    """The latest version's ranking workbook, accountability list (for the coordinator only)
    and bulletin (.docx and mail HTML), recomputed from the inputs it kept; a frozen version's
    are timed by its freeze, so writing them again gives the same bytes."""
    from duban.adapters.outfiles import writing
    from duban.evaluate.bulletin import render_bulletin, write_bulletin_docx
    from duban.evaluate.gather import ballot_comments
    from duban.evaluate.workbook import write_accountability, write_comments, write_ranking

    bundle = rt.bundle
    campaign = bundle.campaign
    with rt.session() as session:
        row = runs.latest_or_fail(session, campaign.id, label_of(rt, label))
        report = report_of(bundle, row)
        name, version, final = row.label, row.version, report.final
        comments = ballot_comments(session, bundle, name, row.closes_at)
    stage = "final" if final else f"v{version}"
    folder = rt.settings.outputs / campaign.id / "evaluation"
    zh = campaign.language == "zh-CN"
    stem = f"考核排名表-{name}-{stage}" if zh else f"ranking-{name}-{stage}"
    done = Outputs(folder / f"{stem}.xlsx",
                   folder / (f"问责名单-{name}-{stage}.xlsx" if zh
                             else f"accountability-{name}-{stage}.xlsx"),
                   folder / (f"考核通报-{name}-{stage}.docx" if zh
                             else f"bulletin-{name}-{stage}.docx"),
                   folder / (f"考核通报-{name}-{stage}.html" if zh
                             else f"bulletin-{name}-{stage}.html"),
                   folder / (f"意见建议汇总-{name}-{stage}.xlsx" if zh
                             else f"comments-{name}-{stage}.xlsx"))  # fmt: skip
    with writing(done.ranking):
        write_ranking(report, done.ranking)
        write_accountability(report, done.accountability)
        write_comments(report, comments, done.comments)
        write_bulletin_docx(report, done.docx)
        done.html.write_text(render_bulletin(report, rt.env).html, encoding="utf-8")
    return done


def report_of(bundle: CampaignBundle, row: EvaluationRow) -> EvaluationReport:
    """A version's report, recomputed from the inputs it kept (``version_report``: the words
    its outputs, the sheets sent and the appeal forms read back share)."""
    return version_report(bundle, row, runs.recomputed(bundle, row))


def publish(rt: Runtime, label: str | None = None) -> PublishReport:
    """The latest version to the units: a preliminary one with each unit's score sheet and
    appeal form (the appeal window opened the first time), to the units whose sheet changed
    since the version published before it; a frozen one with each unit's final sheet and the
    bulletin, which also goes to the distribution list."""
    bundle = rt.bundle
    name = label_of(rt, label)
    with rt.session() as session:
        row = runs.latest_or_fail(session, bundle.campaign.id, name)
        report = report_of(bundle, row)
        if report.final:
            return _publish_final(rt, session, report, row.version)
        window = open_publication(session, bundle, name, row.version, rt.clock)
        before = _published_before(session, bundle, name, row.version)
        forms = AppealFormBuilder(bundle, name, window.appeals_close, rt.secret)
        files = UnitFiles(*_sheet_files(rt, report, f"v{row.version}"),
                          appeal_name=lambda u: forms.attachment_name(bundle.unit(u)),
                          appeal_form=lambda u: forms.workbook(report, u))  # fmt: skip
        with rt.mailer() as mailer:
            return send_sheets(
                session, bundle, report, row.version, changed_units(report, before), files,
                window=window, mailer=mailer, clock=rt.clock, env=rt.env,
            )  # fmt: skip


def _published_before(
    session: Session, bundle: CampaignBundle, label: str, version: int
) -> EvaluationReport | None:
    """The report of the last version published before ``version``, if any."""
    earlier = [v for v in published_versions(session, bundle.campaign.id, label) if v < version]
    if not earlier:
        return None
    rows = runs.runs_of(session, bundle.campaign.id, label)
    return report_of(bundle, next(r for r in rows if r.version == max(earlier)))


def _publish_final(
    rt: Runtime, session: Session, report: EvaluationReport, version: int
) -> PublishReport:
    from duban.compile.outputs import send_to_distribution
    from duban.evaluate.bulletin import render_bulletin

    bundle = rt.bundle
    outputs = write_outputs(rt, report.label)
    files = UnitFiles(*_sheet_files(rt, report, "final"), bulletin=outputs.docx)
    units = [p.unit_id for p in report.evaluation.placings]
    key = f"evaluation-bulletin:{bundle.campaign.id}:{report.label}:final"
    with rt.mailer() as mailer:
        send_to_distribution(session, bundle, key, render_bulletin(report, rt.env),
                             outputs.docx, mailer=mailer, clock=rt.clock)  # fmt: skip
        return send_sheets(session, bundle, report, version, units, files, window=None,
                           mailer=mailer, clock=rt.clock, env=rt.env)  # fmt: skip


def _sheet_files(
    rt: Runtime, report: EvaluationReport, stage: str
) -> tuple[Callable[[str], str], Callable[[str], bytes]]:
    """Each unit's score sheet: its file name, and its bytes, written (when first asked) into
    the evaluation's folder, where the coordinator finds what each unit was sent."""
    from duban.adapters.outfiles import writing
    from duban.evaluate.workbook import write_score_sheet

    folder = rt.settings.outputs / report.campaign_id / "evaluation"
    folder /= sheets_folder(report, stage)

    def name(unit_id: str) -> str:
        return score_sheet_name(report, unit_id)

    def made(unit_id: str) -> bytes:
        path = folder / name(unit_id)
        with writing(path):
            write_score_sheet(report, unit_id, path)
        return path.read_bytes()

    return name, made


def sheets_folder(report: EvaluationReport, stage: str) -> str:
    """The folder of a version's score sheets, under the evaluation's outputs (``stage``:
    ``v<version>`` or ``final``)."""
    zh = report.language == "zh-CN"
    return f"得分说明-{report.label}-{stage}" if zh else f"score-sheets-{report.label}-{stage}"


def score_sheet_name(report: EvaluationReport, unit_id: str) -> str:
    """A unit's score sheet's file name, as sent and as kept (the archive's replay finds the
    unit by it)."""
    from duban.compile.outputs import safe_name

    unit = report.name(unit_id)
    zh = report.language == "zh-CN"
    return safe_name(f"得分说明-{unit}.xlsx" if zh else f"score-sheet-{unit}.xlsx")
