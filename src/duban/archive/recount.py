"""The recount: the raw ballots opened with the office's key, read again, against the export.

``ledger/evaluation_ballots.csv`` keeps each ballot's marks without its evaluator, so nothing
in the bag ties its rows to the raw ballots, and a mark edited there (the manifests made to
agree) would pass every other check. Whoever holds the office's secret key can tie them: each
raw ballot inside ``ballots.tar.gpg`` is read as intake read it (``WorkbookReader`` in a
worker process, the ballot form of its source, ``evaluate.ballotcheck.read_ballot``), with the
campaign files kept when it was received (``archive.versions``), its evaluator's category
taken from that register (the workbook's metadata says whose ballot it is; its token cannot
be checked, the signing secret is not in the bag), and the marks compared with the exported
rows: each raw ballot no row holds, each row no raw ballot holds, and per source, round and
unit, where the marks (categories, comments) differ.

Then, on the ledger restored from the bag (``archive.restore``) with the recounted ballots put
back where the export left them out (those recorded before the version was computed, when
their ``evaluation.ballot-recorded`` events say, in that order: a row's id orders ballots
received at the same instant), each evaluation version's kept public-evaluation figures
are computed again with the evaluation's own code (``evaluate.gather.public_figures``: the
round's close, the latest ballot per evaluator, late and superseded ones set aside, the
trimmed means) and compared; a figure an upheld appeal corrected is not compared (the appeal's
figure is not the ballots').

Ballots arrive one at a time from the decrypted stream (``archive.sealed``); only their marks
are kept, never the files.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import BALLOT
from duban.archive.restore import Restored, restored
from duban.archive.versions import Versions
from duban.errors import DubanError, Problem
from duban.evaluate.ballot_intake import RECORDED_EVENT
from duban.evaluate.ballotcheck import read_ballot
from duban.evaluate.ballots import public_figure
from duban.evaluate.figures import Figure
from duban.evaluate.gather import public_figures
from duban.evaluate.snapshot import canonical, figures_from_json, figures_json
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import sniff
from duban.ledger.schema import BallotRow, EvaluationRow, EventRow, IntakeFileRow, IntakeRow
from duban.model.ballotsheets import ballot_form
from duban.model.loader import CampaignBundle
from duban.model.scoring import ScoreSource

CSV = "data/ledger/evaluation_ballots.csv"
SEALED_AT = "data/ballots/ballots.tar.gpg"


@dataclass(frozen=True)
class Counted:
    """One ballot's marks as a row of the export holds them, and where it is (a raw
    ballot's hash, or the export's line); a raw ballot also knows whose it is and when it
    came (its intake record in the bag)."""

    where: str
    source_id: str
    label: str
    category: str
    marks: tuple[tuple[str, str], ...]
    comments: tuple[tuple[str, str], ...]
    evaluator: str = ""
    came: Came | None = None

    def key(self) -> tuple[object, ...]:
        return (self.source_id, self.label, self.category, self.marks, self.comments)


@dataclass(frozen=True, order=True)
class Came:
    """When a raw ballot was recorded (its ``evaluation.ballot-recorded`` event, or else its
    intake record's), received, and its intake file's id: ballots are put back in the order
    they were recorded, as their ids were."""

    recorded_at: datetime
    received_at: datetime
    file_id: int


@dataclass
class Recount:
    """How many raw ballots were read again and figures computed again, and every
    difference found."""

    ballots: int = 0
    figures: int = 0
    problems: list[Problem] = field(default_factory=list)
    raw: list[Counted] = field(default_factory=list)


@dataclass(frozen=True)
class _Ledger:
    """The bag's ledger restored, a session on it, and its campaign's versions."""

    restored: Restored
    session: Session
    versions: Versions
    recorded: dict[str, datetime]  # a ballot's hash → when its event says it was recorded


class Recounter:
    """Reads raw ballots as they come (``add``), then compares them (``finish``)."""

    def __init__(self, ledger: _Ledger | Problem, reader: WorkbookReader) -> None:
        self.reader, self.recount = reader, Recount()
        self.ledger = ledger if isinstance(ledger, _Ledger) else None
        self.recount.problems += [ledger] if isinstance(ledger, Problem) else []

    def add(self, sha: str, name: str, data: bytes) -> None:
        """One raw ballot, its bytes already checked against its hash."""
        if self.ledger is None:
            return
        self.recount.ballots += 1
        try:
            counted = self._read(self.ledger, sha, name, data)
        except FileRejected as rejected:
            counted = f"cannot be read as a workbook ({rejected.code})"
        if isinstance(counted, str):
            zh = f"无法按收件时的方式重新读取：{counted}"
            self.recount.problems.append(Problem(_raw_where(sha), counted, zh))
        else:
            self.recount.raw.append(counted)

    def _read(self, ledger: _Ledger, sha: str, name: str, data: bytes) -> Counted | str:
        came = _came(ledger, sha)
        campaign_id = ledger.restored.bundle.campaign.id
        bundle = ledger.restored.bundle if came is None else \
            ledger.versions.at(ledger.session, campaign_id, came.received_at)  # fmt: skip
        parsed = self.reader.read(data, sniff(data, name))
        meta = parsed.metadata or {}
        if meta.get("kind") != BALLOT or meta.get("campaign") != campaign_id:
            return "not a ballot of this campaign (its hidden metadata)"
        evaluator = next((e for e in bundle.evaluators if e.id == meta.get("unit_id")), None)
        source = _public_source(bundle, meta.get("source"))
        if evaluator is None or source is None or not meta.get("round"):
            return (f"its evaluator {meta.get('unit_id')!r} or source {meta.get('source')!r} "
                    "is not in the bag's campaign files")  # fmt: skip
        rated = evaluator.rated(bundle.units)
        form = ballot_form(source, len(rated), bundle.campaign.language)
        reading = read_ballot(form, source.ballot_spec, rated, parsed.sheets,
                              version=meta.get("template_version"),
                              uncomputed=parsed.uncomputed)  # fmt: skip
        if reading.problems:
            return f"does not read as a valid ballot: {reading.problems[0].describe('en')}"
        return Counted(sha, source.id, meta["round"], evaluator.category,
                       _pairs(reading.marks), _pairs(reading.comments), evaluator.id,
                       came)  # fmt: skip

    def finish(self) -> Recount:
        """The raw ballots against the exported rows, then the figures computed again (see
        the module's docstring)."""
        if self.ledger is None:
            return self.recount
        rows = list(_exported(self.ledger.restored.bag / CSV, self.recount.problems))
        self.recount.problems += _unmatched(self.recount.raw, rows)
        self.recount.problems += _by_unit(self.recount.raw, rows)
        _figures(self.ledger.session, self.ledger.versions, self.recount)
        return self.recount


@contextmanager
def recounter(bag: Path) -> Iterator[Recounter]:
    """A ``Recounter`` with the bag's ledger restored and a workbook reader (one worker
    process); a bag that cannot be restored is one problem (the replay names its causes)."""
    with ExitStack() as stack, WorkbookReader(1) as reader:
        try:
            found = stack.enter_context(restored(bag))
            session = stack.enter_context(found.session())
            ledger: _Ledger | Problem = _Ledger(found, session, Versions(found),
                                                _recorded(session))  # fmt: skip
        except (DubanError, SQLAlchemyError, OSError, ValueError, csv.Error) as error:
            said = error.message if isinstance(error, DubanError) else str(error)
            ledger = Problem(SEALED_AT, f"the ballots could not be recounted: {said}",
                             f"无法重新计票：{said}")  # fmt: skip
        yield Recounter(ledger, reader)


def _public_source(bundle: CampaignBundle, source_id: str | None) -> ScoreSource | None:
    return next((s for s in bundle.campaign.scoring.sources
                 if s.id == source_id and s.kind == "public-evaluation"), None)  # fmt: skip


def _recorded(session: Session) -> dict[str, datetime]:
    """When each ballot was recorded, by the restored event log."""
    query = select(EventRow.at, EventRow.payload).where(EventRow.kind == RECORDED_EVENT)
    found: dict[str, datetime] = {}
    for at, payload in session.execute(query.order_by(EventRow.id)):
        sha = payload.get("sha256") if isinstance(payload, dict) else None
        if isinstance(sha, str):
            found.setdefault(sha, at)
    return found


def _came(ledger: _Ledger, sha: str) -> Came | None:
    """When the ballot was first received, by the intake records the bag restored."""
    query = (
        select(IntakeRow.received_at, IntakeRow.recorded_at, IntakeFileRow.id)
        .join(IntakeRow, IntakeRow.id == IntakeFileRow.intake_id)
        .where(IntakeFileRow.sha256 == sha)
        .order_by(IntakeFileRow.id)
        .limit(1)
    )
    found = ledger.session.execute(query).first()
    if found is None:
        return None
    received_at, recorded_at, file_id = found
    return Came(ledger.recorded.get(sha, recorded_at), received_at, file_id)


def _pairs(values: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in values.items()))


def _raw_where(sha: str) -> str:
    return f"{SEALED_AT}: ballot {sha}"


# ------------------------------------------------------------------- the export's rows


def _exported(path: Path, problems: list[Problem]) -> Iterator[Counted]:
    """The export's rows; a row that cannot be read is named."""
    if not path.is_file():
        problems.append(Problem(CSV, "missing: the raw ballots cannot be compared with it",
                                "缺失：无法与原始选票核对"))  # fmt: skip
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                yield Counted(f"{CSV} line {number}", row["source_id"], row["label"],
                              row["category"], _pairs(json.loads(row["marks"])),
                              _pairs(json.loads(row["comments"])))  # fmt: skip
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                problems.append(Problem(f"{CSV} line {number}", f"cannot be read: {error}",
                                        f"无法读取：{error}"))  # fmt: skip


def _unmatched(raw: list[Counted], rows: list[Counted]) -> list[Problem]:
    """Each raw ballot no row holds whole, and each row no raw ballot holds."""
    left = Counter(r.key() for r in rows)
    found = []
    for ballot in raw:
        if left[ballot.key()] > 0:
            left[ballot.key()] -= 1
            continue
        found.append(Problem(_raw_where(ballot.where),
                             f"its marks ({_round(ballot)}) are in no row of {CSV}",
                             f"其打分（{_round(ballot)}）不在 {CSV} 的任何一行中"))  # fmt: skip
    for row in rows:
        if left[row.key()] > 0:
            left[row.key()] -= 1
            found.append(Problem(row.where, f"no raw ballot holds this row's marks ({_round(row)})",
                                 f"没有原始选票含有此行的打分（{_round(row)}）"))  # fmt: skip
    return found


def _round(ballot: Counted) -> str:
    return f"source {ballot.source_id} round {ballot.label}"


Marks = Counter[tuple[str, str, str]]  # (category, mark, comment)


def _per_unit(ballots: list[Counted]) -> dict[tuple[str, str, str], Marks]:
    found: dict[tuple[str, str, str], Marks] = {}
    for b in ballots:
        marks, comments = dict(b.marks), dict(b.comments)
        for unit in sorted({*marks, *comments}):
            each = (b.category, marks.get(unit, ""), comments.get(unit, ""))
            found.setdefault((b.source_id, b.label, unit), Counter())[each] += 1
    return found


def _by_unit(raw: list[Counted], rows: list[Counted]) -> list[Problem]:
    """Per source, round and unit: the marks, categories and comments of the raw ballots
    against the export's."""
    recounted, exported = _per_unit(raw), _per_unit(rows)
    found = []
    for key in sorted(set(recounted) | set(exported)):
        have, want = exported.get(key, Counter()), recounted.get(key, Counter())
        if have == want:
            continue
        source, label, unit = key
        where = f"{CSV}: source {source} round {label} unit {unit}"
        en = f"marks {_shown(have)}, the raw ballots hold {_shown(want)}"
        zh = f"打分为 {_shown(have)}，原始选票为 {_shown(want)}"
        found.append(Problem(where, en, zh, f"{CSV}：来源 {source} 第 {label} 轮 单位 {unit}"))
    return found


def _shown(marks: Marks) -> str:
    if not marks:
        return "(none)"
    return "; ".join(f"{n} × {_one(*each)}" for each, n in sorted(marks.items()))


def _one(category: str, mark: str, comment: str) -> str:
    said = f"{mark or '(no mark)'} ({category or '-'})"
    return said + (f" comment {comment[:20]!r}" if comment else "")


# ------------------------------------------------------------------- the figures


def _dated(recount: Recount) -> list[tuple[Came, Counted]] | None:
    """The recounted ballots in the order they were recorded; ``None``, and each ballot
    said, when one has no intake record to say when it came."""
    undated = [b for b in recount.raw if b.came is None]
    recount.problems += [Problem(_raw_where(b.where), "no intake record in the bag says when "
                                 "it was received: the figures were not computed again",
                                 "归档中没有其收件记录，无法得知收到时间：未复算民主评议得分")
                         for b in undated]  # fmt: skip
    dated = [(b.came, b) for b in recount.raw if b.came is not None]
    return None if undated else sorted(dated, key=lambda pair: pair[0])


def _put_back(session: Session, campaign_id: str, ballots: list[tuple[Came, Counted]]) -> None:
    """Ballots into the restored ledger, where the export left them out."""
    for came, b in ballots:
        session.add(BallotRow(
            campaign_id=campaign_id, source_id=b.source_id, label=b.label,
            evaluator_id=b.evaluator, category=b.category, sha256=b.where,
            intake_file_id=came.file_id, sender="", received_at=came.received_at,
            recorded_at=came.recorded_at, marks=dict(b.marks), comments=dict(b.comments),
        ))  # fmt: skip
    session.flush()


def _figures(session: Session, versions: Versions, recount: Recount) -> None:
    """Each version's kept public-evaluation figures against those of the recounted ballots
    recorded before it was computed (put back as the versions come, in order)."""
    waiting = _dated(recount)
    if waiting is None:
        return
    for row in session.scalars(select(EvaluationRow).order_by(EvaluationRow.computed_at,
                                                              EvaluationRow.id)).all():  # fmt: skip
        ready = [pair for pair in waiting if pair[0].recorded_at <= row.computed_at]
        _put_back(session, row.campaign_id, ready)
        waiting = waiting[len(ready) :]
        _version(session, versions.at(session, row.campaign_id, row.computed_at), row, recount)


def _version(
    session: Session, bundle: CampaignBundle, row: EvaluationRow, recount: Recount
) -> None:
    kept = figures_from_json(row.inputs)
    for source in bundle.campaign.scoring.sources:
        if source.kind != "public-evaluation":
            continue
        column = public_figures(session, bundle, source, row.label, row.closes_at)
        missing = public_figure(None, source.ballot_spec)
        for unit, figures in sorted(kept.items()):
            had = figures.get(source.id)
            if had is None or any(e.kind == "correction" for e in had.evidence):
                continue
            recount.figures += 1
            found = _differs(row, source.id, unit, had, column.get(unit, missing))
            recount.problems += [] if found is None else [found]


def _differs(
    row: EvaluationRow, source_id: str, unit: str, had: Figure, found: Figure
) -> Problem | None:
    kept, again = figures_json({unit: {source_id: had}}), figures_json({unit: {source_id: found}})
    if canonical(kept) == canonical(again):
        return None
    name = f"evaluation {row.label} v{row.version}"
    where = f"data/ledger/evaluations.csv id {row.id} ({name}, unit {unit}, source {source_id})"
    zh_where = f"data/ledger/evaluations.csv 第 {row.id} 条（单位 {unit}，来源 {source_id}）"
    same = had.raw == found.raw
    en = (
        f"kept figure {_raw(had, 'missing')}, the recounted ballots give "
        f"{_raw(found, 'missing')}{' (its evidence differs)' if same else ''}"
    )
    zh = (
        f"记载的得分为 {_raw(had, '缺失')}，按重新计票为 {_raw(found, '缺失')}"
        f"{'（得分依据不同）' if same else ''}"
    )
    return Problem(where, en, zh, zh_where)


def _raw(figure: Figure, none: str) -> str:
    return none if figure.raw is None else str(figure.raw)
