"""The replay: recompute from the bag alone what the bag says was decided, and compare.

A bag whose manifests were all recomputed after an edit passes the file checks; what it
recorded must still follow from what it kept. On a ledger restored from the bag
(``archive.restore``), with the bag's campaign file:

- every evaluation version (``evaluations``): the hash of the inputs it kept against
  ``inputs_digest``; the result recomputed from those inputs (``evaluate.runs.recomputed``,
  with the campaign files kept when it was computed: ``archive.versions``)
  against ``result_digest`` and against the ``evaluation.computed`` event of the event log;
  and each unit's group, total, rank, flagged, commended and score-sheet lines against its
  ``evaluation_scores`` row;
- every inspection draw: recomputed from its commitment's registers, parameters, seed and
  recusals (``inspect.drawing.verify_round`` for a round's latest draw, which also compares the
  digest the event log kept; ``inspect.verify.verify`` for an earlier one);
- every ranking workbook (考核排名表) and accountability list (问责名单) under
  ``data/outputs/``: each row's unit, rank and total against the recomputed placings of the
  version its name gives (``archive.rankings``);
- every summary workbook (汇总表): its counts and rates recomputed for the period and moment
  its audit sheet records (``archive.summaries``), and the bulletin (通报 .docx) beside it
  written again from those figures and compared by text (``archive.bulletins``; rectification
  items it counted that have moved since are counted as they stood then, rebuilt from their
  events: ``selfcheck.history``);
- every other output a command wrote and can write again, written again by the same writer on
  the restored ledger for the moment the output belongs to, and compared cell by cell
  (``archive.cells``) or, for a .docx, paragraph by paragraph (``archive.documents``): the
  rectification ledgers (整改台账, as of their ``rectification.ledger-written`` event:
  ``archive.ledgers``), an inspection round's summary workbook and bulletin (督查汇总表,
  督查通报, as of their ``inspection.reported`` event: ``archive.inspections``), and an
  evaluation version's bulletin (考核通报) and per-unit score sheets (得分说明, as of the
  version's own moment: ``archive.evaluations``); ``archive.written`` finds the event that
  wrote each file;
- every evaluation version and inspection draw the event log records, against the rows the
  bag still has (``archive.logged``).

What it does not replay is listed, with why: the anonymous ballots (not restored, so a
ballot's marks are not recounted into the figures: the evaluation starts from the figures it
kept) and the comments workbook made from them; the HTML pages (rendered from templates the
bag does not keep; what they show is compared in the .docx or workbook written with them, or
replayed from the ledger, as a draw's publication page); the verification forms (核验销号表:
no event records their moment); any other file; and the figures an evaluation gathered from
the ledger (its inputs are taken as kept, checked by their hash). A rectification item moved
after a ledger or bulletin was written is taken as it stood then, rebuilt from its events; only
what its events cannot say is left out, and said (``archive.ledgers``, ``archive.bulletins``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from duban.archive.bulletins import as_then, bulletin_of, check_bulletin
from duban.archive.evaluations import Version, check_evaluation_output, named_version
from duban.archive.inspections import check_inspection
from duban.archive.ledgers import check_ledger
from duban.archive.logged import logged_but_missing
from duban.archive.pages import bag_templates
from duban.archive.rankings import NAMED, check_ranking
from duban.archive.restore import Restored, restored
from duban.archive.summaries import check_summary, is_summary
from duban.archive.versions import Versions
from duban.archive.written import COMPILED, Written, written_by
from duban.compile.model import CompileInput
from duban.errors import DubanError, Problem
from duban.evaluate.runs import FROZEN, recomputed
from duban.evaluate.snapshot import canonical, result_json, sha256
from duban.inspect import rounds
from duban.inspect.drawing import verify_round
from duban.inspect.verify import verify
from duban.ledger.schema import (
    EvaluationRow,
    EvaluationScoreRow,
    EventRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
    InspectionRoundRow,
)
from duban.model.loader import CampaignBundle
from duban.selfcheck.commands import LEDGER_WRITTEN

LEDGER = "data/ledger"
SCORE_FIELDS = ("group_id", "total", "rank", "flagged", "commended", "lines")
UNREPLAYED = (
    (r"^(意见建议汇总|comments)-.+\.xlsx$", "the ballots' comments: the ballots are not "
     "restored", "评议选票中的意见建议：选票未恢复"),
    (r"^(核验销号表|verification sheet)", "a form of the items awaiting verification, to fill "
     "in; no event records its moment", "待核验事项的填报表，没有事件记载其生成时刻"),
    (r"^(整改台账|rectification ledger|督查汇总表|督查通报|inspection summary|inspection bulletin)"
     r".*\.(xlsx|docx)$", "no event of the log says it wrote this file, so its moment is unknown",
     "事件日志中没有生成此文件的记载，无从得知其时刻"),
    (r"\.html$", "a page the replay does not render again (a draw's publication page, or any "
     "page of a bag filed without its templates); what it shows is replayed from the ledger or "
     "in the .docx or workbook written with it", "复算不重新生成的网页（抽查结果公示页，或归档包"
     "未保存模板时的各网页）；其内容根据台账复算，或在同时生成的 .docx 或工作簿中核对"),
    (r"\.docx$", "a document the replay does not write again", "复算不重新生成的文档"),
    (r"\.xlsx$", "a workbook the replay does not recognise or write again",
     "复算不识别或不重新生成的工作簿"),
)  # fmt: skip
"""Why a file under ``data/outputs`` is not replayed, by its kind."""
READ_AS = {".xlsx": ("a workbook", "工作簿"), ".docx": ("a document", "文档")}
RESULT_KEYS = {"group_id": "group", "total": "total", "rank": "rank", "flagged": "flagged",
               "commended": "commended", "lines": "lines"}  # fmt: skip


@dataclass(frozen=True)
class Replayed:
    """One thing recomputed, and how many differences it showed."""

    en: str
    zh: str
    differences: int


@dataclass
class Replay:
    done: list[Replayed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_replayed: list[tuple[str, str]] = field(default_factory=list)  # (en, zh)

    def add(self, en: str, zh: str, found: list[Problem]) -> None:
        self.done.append(Replayed(en, zh, len(found)))
        self.problems += found


def replay_bag(bag: Path) -> Replay:
    """Restore the bag's ledger and replay it (see the module docstring)."""
    replay = Replay()
    try:
        with restored(bag) as ledger:
            _replay(ledger, bag, replay)
    except (DubanError, SQLAlchemyError, OSError, ValueError, csv.Error) as error:
        replay.problems.append(Problem("replay", f"the bag could not be replayed: {error}",
                                       f"无法复算：{error}", "复算"))  # fmt: skip
    return replay


def _replay(ledger: Restored, bag: Path, replay: Replay) -> None:
    for table, why in ledger.skipped.items():
        ballots = table == "evaluation_ballots"
        zh = "评议选票匿名（加密收录时，用 --office-key 复核计票）" if ballots else why
        en = (
            "ballots are anonymous (filed encrypted: --office-key recounts them)"
            if ballots
            else why
        )
        replay.not_replayed.append((f"{table}: {en}", f"{table}：{zh}"))
    for at, error in ledger.unreadable:
        replay.problems.append(Problem(f"{LEDGER}/{at}", f"cannot be read: {error}",
                                       f"无法读取：{error}"))  # fmt: skip
    versions = Versions(ledger)
    with ledger.session() as session:
        results = _evaluations(session, versions, replay)
        _draws(session, ledger.bundle, replay)
        replay.problems += logged_but_missing(session)
        written = written_by(session, ledger.bundle.campaign.id)
        compiled = written_by(session, ledger.bundle.campaign.id, COMPILED)
    _outputs(bag / "data" / "outputs", Outputs(results, ledger, versions, written, compiled),
             replay)  # fmt: skip


# ------------------------------------------------------------------------- evaluations


def _evaluations(
    session: Session, versions: Versions, replay: Replay
) -> dict[tuple[str, str], Version]:
    """Each version replayed; its recomputed result by (label, ``v<n>``), and the frozen
    version's also by (label, ``final``)."""
    results: dict[tuple[str, str], Version] = {}
    for row in session.scalars(select(EvaluationRow).order_by(EvaluationRow.id)):
        name = f"evaluation {row.label} v{row.version}"
        zh = f"考核“{row.label}”第 {row.version} 版"
        where = (f"{LEDGER}/evaluations.csv id {row.id} ({name})",
                 f"{LEDGER}/evaluations.csv 第 {row.id} 条（{zh}）")  # fmt: skip
        found: list[Problem] = []
        if sha256(row.inputs) != row.inputs_digest:
            found.append(_differs(where, "inputs_digest", row.inputs_digest, sha256(row.inputs)))
        try:
            bundle = versions.at(session, row.campaign_id, row.computed_at)
            result = recomputed(bundle, row)
            expected = result_json(result)
        except (DubanError, KeyError, ValueError, TypeError, ArithmeticError) as error:
            found.append(Problem(where[0], f"cannot be recomputed from its inputs: {error}",
                                 f"无法根据其输入复算：{error}", where[1]))  # fmt: skip
            replay.add(name, zh, found)
            continue
        digest = sha256(expected)
        if digest != row.result_digest:
            found.append(_differs(where, "result_digest", row.result_digest, digest))
        found += _logged(session, row, where)
        found += _scores(session, row, expected, name, zh)
        replay.add(f"{name}: {len(expected)} units recomputed",
                   f"{zh}：复算 {len(expected)} 个单位", found)  # fmt: skip
        results[(row.label, f"v{row.version}")] = Version(row, bundle, result)
        if row.state == FROZEN:
            results[(row.label, "final")] = Version(row, bundle, result)
    return results


def _logged(session: Session, row: EvaluationRow, where: tuple[str, str]) -> list[Problem]:
    """The digests the event log kept for this version, against the row's."""
    query = select(EventRow.payload).where(
        EventRow.campaign_id == row.campaign_id, EventRow.kind == "evaluation.computed",
        EventRow.subject == f"evaluation:{row.label}",
    )  # fmt: skip
    for payload in session.scalars(query):
        if payload.get("version") != row.version:
            continue
        found = []
        for key, column in (("inputs", "inputs_digest"), ("result", "result_digest")):
            if payload.get(key) != getattr(row, column):
                en = (f"{column} is {getattr(row, column)}, the event log's "
                      f"evaluation.computed records {payload.get(key)}")  # fmt: skip
                zh = f"{column} 为 {getattr(row, column)}，事件日志记载为 {payload.get(key)}"
                found.append(Problem(where[0], en, zh, where[1]))
        return found
    return []


def _scores(
    session: Session, row: EvaluationRow, expected: dict[str, Any], name: str, zh: str
) -> list[Problem]:
    found = []
    query = select(EvaluationScoreRow).where(EvaluationScoreRow.evaluation_id == row.id)
    seen = set()
    for score in session.scalars(query.order_by(EvaluationScoreRow.id)):
        where = (
            f"{LEDGER}/evaluation_scores.csv id {score.id} ({name}, unit {score.unit_id})",
            f"{LEDGER}/evaluation_scores.csv 第 {score.id} 条（{zh}，单位 {score.unit_id}）",
        )
        seen.add(score.unit_id)
        want = expected.get(score.unit_id)
        if want is None:
            found.append(Problem(where[0], "a unit the recomputed result does not rank",
                                 "复算结果中没有该单位", where[1]))  # fmt: skip
            continue
        for column in SCORE_FIELDS:
            have, should = getattr(score, column), want[RESULT_KEYS[column]]
            if not _same(have, should):
                found.append(_differs(where, column, _shown(have), _shown(should)))
    for unit in sorted(set(expected) - seen):
        found.append(Problem(f"{LEDGER}/evaluation_scores.csv ({name})",
                             f"no row for unit {unit}, which the recomputed result ranks",
                             f"缺少单位 {unit} 的记录（复算结果中有该单位）",
                             f"{LEDGER}/evaluation_scores.csv（{zh}）"))  # fmt: skip
    return found


def _same(have: Any, should: Any) -> bool:
    if isinstance(have, Decimal) or isinstance(should, Decimal):
        try:
            return Decimal(str(have)) == Decimal(str(should))
        except InvalidOperation:
            return False
    if isinstance(have, list | dict):
        return canonical(have) == canonical(should)
    return bool(have == should) and type(have) is type(should)


def _shown(value: Any) -> str:
    if isinstance(value, list | dict):
        return "(other lines)" if value else "(none)"
    return str(value)


def _differs(where: tuple[str, str], column: str, have: object, should: object) -> Problem:
    return Problem(where[0], f"{column} is {have}, recomputed {should}",
                   f"{column} 记载为 {have}，复算为 {should}", where[1])  # fmt: skip


# ------------------------------------------------------------------------- inspection


def _draws(session: Session, bundle: CampaignBundle, replay: Replay) -> None:
    query = (
        select(InspectionDrawRow, InspectionCommitmentRow, InspectionRoundRow)
        .join(
            InspectionCommitmentRow, InspectionCommitmentRow.id == InspectionDrawRow.commitment_id
        )
        .join(InspectionRoundRow, InspectionRoundRow.id == InspectionCommitmentRow.round_id)
        .order_by(InspectionDrawRow.id)
    )
    for done, commitment, round_row in session.execute(query).all():
        name = f"inspection {round_row.inspection_id} round {round_row.label} " \
               f"commitment {commitment.seq}"  # fmt: skip
        zh = f"督查“{round_row.inspection_id}”第 {round_row.label} 轮第 {commitment.seq} 次承诺"
        where = (f"{LEDGER}/inspection_draws.csv id {done.id} ({name})",
                 f"{LEDGER}/inspection_draws.csv 第 {done.id} 条（{zh}）")  # fmt: skip
        try:
            latest = rounds.latest_commitment(session, round_row.id)
            if latest is not None and latest.id == commitment.id:
                verdict = verify_round(session, bundle, round_row.inspection_id, round_row.label)
            else:
                verdict = verify(
                    rounds.inputs_of(round_row, commitment),
                    rounds.record_bytes(done),
                    recorded_hash=done.result_digest,
                )
        except (DubanError, KeyError, ValueError, TypeError) as error:
            found = [Problem(where[0], f"cannot be recomputed: {error}", f"无法复算：{error}",
                             where[1])]  # fmt: skip
            replay.add(name, zh, found)
            continue
        found = [Problem(where[0], f.en, f.zh, where[1]) for f in verdict.findings]
        units = 0 if verdict.recomputed is None else len(verdict.recomputed.units)
        replay.add(f"{name}: {units} units drawn again", f"{zh}：重新抽取 {units} 个单位",
                   found)  # fmt: skip


# ------------------------------------------------------------------------- outputs


@dataclass
class Outputs:
    """What replaying one bag's outputs needs: the recomputed evaluations, the restored ledger,
    the campaign as it stood, which event wrote each file, and the figures of each summary by
    the bulletin made with it."""

    results: dict[tuple[str, str], Version]
    ledger: Restored
    versions: Versions
    written: dict[tuple[str, ...], Written]
    compiled: dict[tuple[str, ...], Written]
    bulletins: dict[str, tuple[CompileInput, Written | None]] = field(default_factory=dict)
    sheets: dict[str, list[list[Problem]]] = field(default_factory=dict)  # folder → found


def _outputs(outputs: Path, done: Outputs, replay: Replay) -> None:
    """Every file under ``data/outputs``, the workbooks first (a summary before its
    bulletin)."""
    if not outputs.is_dir():
        return
    files = sorted(p for p in outputs.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.suffix.lower() != ".xlsx"):
        relative = f"data/outputs/{path.relative_to(outputs).as_posix()}"
        try:
            _output(path, relative, done, replay)
        except DubanError as error:  # the ledger cannot give it (a round not approved …)
            replay.problems.append(Problem(relative, f"cannot be recomputed: {error.message}",
                                           f"无法复算：{error.zh or error.message}"))  # fmt: skip
        except Exception as error:
            # openpyxl and python-docx raise many kinds on a damaged file (zip, XML, a missing
            # part): the file checks name the damage; the replay says it and goes on
            said = f"{type(error).__name__}: {error}"
            en, zh = READ_AS.get(path.suffix.lower(), ("a file", "文件"))
            replay.problems.append(Problem(relative, f"cannot be read as {en}: {said}",
                                           f"无法作为{zh}读取：{said}"))  # fmt: skip
    _sheets(done, replay)


def _output(path: Path, relative: str, done: Outputs, replay: Replay) -> None:
    written = done.written.get(tuple(relative.split("/")[2:]))
    suffix = path.suffix.lower()
    if written is None and suffix == ".html" and bag_templates(done.ledger.bag) is not None:
        docx = relative.removesuffix(path.suffix) + ".docx"  # the page's .docx names its event
        written = done.written.get(tuple(docx.split("/")[2:]))
    if (named := named_version(path, bag_templates(done.ledger.bag) is not None)) is not None:
        _evaluation_output(path, relative, named, done, replay)
    elif written is not None and suffix in (".xlsx", ".docx", ".html"):
        check = check_ledger if written.kind == LEDGER_WRITTEN else check_inspection
        what, found = check(path, relative, written, done.ledger, done.versions)
        replay.add(f"{relative}: {what[0]}, written again and compared",
                   f"{relative}：{what[1]}，重新生成并逐项核对", found)  # fmt: skip
    elif relative in done.bulletins:
        data, compiled = done.bulletins.pop(relative)
        _bulletin(path, relative, as_then(data, done.ledger, compiled), done.ledger, replay)
    elif suffix == ".xlsx":
        _workbook(path, relative, done, replay)
    else:
        replay.not_replayed.append(_unreplayed(relative))


def _bulletin(
    path: Path, relative: str, then: tuple[CompileInput, int], ledger: Restored, replay: Replay
) -> None:
    data, unknown = then
    if unknown:
        replay.not_replayed.append((
            f"{relative} ({unknown} rectification items it counted have moved since and their "
            "events do not say how they stood then)", f"{relative}（其统计的 {unknown} 项整改"
            "事项此后有变动，其事件不足以还原当时状态）",
        ))  # fmt: skip
        return
    page = path.suffix.lower() == ".html"
    replay.add(f"{relative}: {'rendered' if page else 'written'} again from its summary's "
               "recomputed figures", f"{relative}：按汇总表的复算数字重新生成并核对",
               check_bulletin(path, relative, data, ledger))  # fmt: skip


def _workbook(path: Path, relative: str, done: Outputs, replay: Replay) -> None:
    match = NAMED.match(path.name)
    if match is None and is_summary(path):
        ledger = done.ledger
        what, found, data = check_summary(path, relative, ledger.engine, ledger.bundle)
        replay.add(f"{relative}: figures of {what[0]} recomputed",
                   f"{relative}：复算 {what[1]} 的各项数字", found)  # fmt: skip
        if data is not None:
            compiled = done.compiled.get(tuple(relative.split("/")[2:]))
            done.bulletins[bulletin_of(relative, data)] = (data, compiled)
            if bag_templates(ledger.bag) is not None:  # the page as mailed, with them
                done.bulletins[bulletin_of(relative, data, ".html")] = (data, compiled)
    elif match is None:
        replay.not_replayed.append(_unreplayed(relative))
    elif version := _version(done, (match["label"], match["stage"]), relative, replay):
        replay.add(f"{relative}: rows against the recomputed placings",
                   f"{relative}：逐行与复算名次核对",
                   check_ranking(path, relative, version.result, match["book"]))  # fmt: skip


def _evaluation_output(
    path: Path, relative: str, named: tuple[str, str], done: Outputs, replay: Replay
) -> None:
    if version := _version(done, named, relative, replay):
        found = check_evaluation_output(path, relative, version, named[1], done.ledger.scratch,
                                        bag_templates(done.ledger.bag))  # fmt: skip
        if path.suffix.lower() in (".docx", ".html"):
            replay.add(f"{relative}: written again from the recomputed version",
                       f"{relative}：按复算的考核版本重新生成并核对", found)  # fmt: skip
        else:  # one score sheet a unit: said once per folder
            done.sheets.setdefault(relative.rpartition("/")[0], []).append(found)


def _sheets(done: Outputs, replay: Replay) -> None:
    for folder, found in done.sheets.items():
        replay.add(f"{folder}/: {len(found)} score sheets written again from the recomputed "
                   "version", f"{folder}/：按复算的考核版本重新生成并核对 {len(found)} 份得分说明",
                   [problem for each in found for problem in each])  # fmt: skip


def _version(
    done: Outputs, named: tuple[str, str], relative: str, replay: Replay
) -> Version | None:
    """The recomputed version a file's name gives; None (and said) when there is none."""
    version = done.results.get(named)
    if version is None:
        replay.add(relative, relative, [Problem(relative,
            "no evaluation version of this name in the ledger to recompute it from",
            "台账中没有与此文件名对应的考核版本，无法复算")])  # fmt: skip
    return version


def _unreplayed(relative: str) -> tuple[str, str]:
    """A file the replay does not recompute, and why (by its kind)."""
    name = relative.rsplit("/", 1)[-1]
    for pattern, en, zh in UNREPLAYED:
        if re.search(pattern, name, re.IGNORECASE):
            return f"{relative} ({en})", f"{relative}（{zh}）"
    return relative, relative
