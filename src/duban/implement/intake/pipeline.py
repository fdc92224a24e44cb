"""From a source item to ledger facts: store, record, unpack, read, identify, validate, decide.

The order is the promise "nothing lost": the raw bytes are written to the content-addressed
store and an intake row is committed *before* anything parses them; each file found is stored
and recorded before it is read; reading happens in isolated workers; only then is anything
decided. A crash anywhere leaves the item unmarked in its source, and the next run finds its
rows by ``(source, ref)`` and ``(intake, index)`` and carries on without recording it twice.

A batch is worked through a piece of items at a time, so the database sees a few queries per
piece rather than a few per item, and the workers read while this process records: a piece is
received (its raw bytes stored, its rows recorded from the headers alone) and committed; then
its messages are read, their files stored, recorded and committed, and handed to the workers,
which read them while the next piece is received; each item is decided once its files are
read, a wave of items at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import TemplateIdentity
from duban.clock import Clock
from duban.implement.intake.archive import unpack_archive
from duban.implement.intake.automatic import automatic_reason
from duban.implement.intake.decide import Identified, Outcome, Verdict, identify, unit_of_sender
from duban.implement.intake.mime import read_envelope, read_files
from duban.implement.intake.model import Envelope, FoundFile, RawItem
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import Reading, WorkbookReader
from duban.implement.intake.reasons import FileRejected, is_hostile
from duban.implement.intake.sniff import (
    UNREADABLE_WORKBOOK_KINDS,
    WORKBOOK_KINDS,
    Kind,
    refusal,
    sniff,
)
from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from duban.ledger.store import append_event
from duban.model.forms import Form
from duban.model.loader import CampaignBundle
from duban.model.validation import Checked, validate_workbook

_T = TypeVar("_T")
_IN_CHUNK = 500
"""Values per ``IN (…)``: far below SQLite's and PostgreSQL's limits on bound parameters."""
_PIECE = 16
"""Items received, and their files stored and recorded, before those go to the workers."""
_FIRST_PIECE = 4
"""The first piece is smaller, so the workers start sooner."""
_WAVE = 16
"""Records decided together once their files are read (unless fewer are left)."""

FINAL = frozenset(o.value for o in Outcome)
_PRIORITY = (Outcome.ACCEPTED, Outcome.HELD, Outcome.QUARANTINED, Outcome.REJECTED,
             Outcome.DUPLICATE, Outcome.IGNORED)  # fmt: skip


@dataclass
class Intake:
    """What intake needs, passed in: the campaign, the store, the reader, the secret, a clock."""

    bundle: CampaignBundle
    store: RawStore
    reader: WorkbookReader
    secret: bytes
    clock: Clock


@dataclass
class Candidate:
    """A stored, recorded file waiting to be read (or already decided without reading)."""

    row: IntakeFileRow
    found: FoundFile
    kind: Kind | None = None
    verdict: Verdict | None = None
    parsed: ParsedWorkbook | None = None
    who: Identified | Verdict | None = None
    unread: bool = False
    """Sent to the workers, not yet answered."""


@dataclass
class BatchReport:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    intake_ids: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def receive(
    session: Session,
    intake: Intake,
    items: Sequence[RawItem],
    envelopes: Sequence[Envelope | None],
) -> list[IntakeRow]:
    """Store every item's raw bytes durably, then record each item once: its row, in the order
    of ``items`` (an item recorded before a crash gets its earlier row back)."""
    shas = intake.store.put_many(item.data for item in items)
    recorded = _recorded(session, items)
    firsts = _earlier_copies(session, set(shas))
    now = intake.clock.now()
    rows: list[IntakeRow] = []
    copies: list[tuple[IntakeRow, IntakeRow]] = []  # (duplicate, its first) within the batch
    for item, envelope, sha in zip(items, envelopes, shas, strict=True):
        row = recorded.get((item.source, item.ref))
        if row is None:
            row = _record(intake, item, envelope, sha, now)
            if row.status == "received" and sha in firsts:
                row.status, row.reason = Outcome.DUPLICATE.value, "duplicate-message"
                first = firsts[sha]
                if isinstance(first, int):
                    row.detail = {"first": first}
                else:
                    copies.append((row, first))
            elif row.status != Outcome.DUPLICATE.value:
                firsts.setdefault(sha, row)
            session.add(row)
            recorded[(item.source, item.ref)] = row
        rows.append(row)
    session.flush()
    for row, first in copies:  # their first's id is known now
        row.detail = {"first": first.id}
    return rows


def _record(
    intake: Intake, item: RawItem, envelope: Envelope | None, sha: str, now: datetime
) -> IntakeRow:
    """A new intake row; an automatic message is set aside at once."""
    row = IntakeRow(
        campaign_id=intake.bundle.campaign.id,
        source=item.source,
        source_ref=item.ref,
        raw_sha256=sha,
        sender=_clip(envelope.sender if envelope else None, 254),
        subject=envelope.subject if envelope else item.ref,
        message_id=_clip(envelope.message_id if envelope else None, 255),
        in_reply_to=_clip(envelope.in_reply_to if envelope else None, 255),
        received_at=item.received_at or now,
        recorded_at=now,
        status="received",
    )
    automatic = (
        None
        if envelope is None
        else automatic_reason(envelope.subject, envelope.auto_submitted, envelope.duban_key)
    )
    if automatic is not None:
        row.status, row.reason = Outcome.IGNORED.value, automatic
    return row


def _recorded(session: Session, items: Sequence[RawItem]) -> dict[tuple[str, str], IntakeRow]:
    """The rows already recorded for these items, by ``(source, ref)``: one query a source."""
    refs: dict[str, set[str]] = {}
    for item in items:
        refs.setdefault(item.source, set()).add(item.ref)
    found: dict[tuple[str, str], IntakeRow] = {}
    for source, wanted in refs.items():
        for chunk in _chunks(sorted(wanted)):
            query = select(IntakeRow).where(
                IntakeRow.source == source, IntakeRow.source_ref.in_(chunk)
            )
            for row in session.scalars(query):
                found[(row.source, row.source_ref)] = row
    return found


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _earlier_copies(session: Session, shas: set[str]) -> dict[str, int | IntakeRow]:
    """The first record (not itself a duplicate) of each raw sha already in the ledger."""
    firsts: dict[str, int | IntakeRow] = {}
    for chunk in _chunks(sorted(shas)):
        query = (
            select(IntakeRow.raw_sha256, func.min(IntakeRow.id))
            .where(IntakeRow.raw_sha256.in_(chunk), IntakeRow.status != Outcome.DUPLICATE.value)
            .group_by(IntakeRow.raw_sha256)
        )
        for sha, first in session.execute(query).tuples():
            firsts[sha] = first
    return firsts


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """Pieces small enough for any database's limit on bound parameters."""
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def process_batch(session: Session, intake: Intake, items: Sequence[RawItem]) -> BatchReport:
    """Work through the batch a piece of items at a time: receive the piece (raw bytes stored,
    envelopes read from the headers, rows recorded, committed), then read the bodies of its
    items still undecided and store and record their files (committed), and hand those to the
    workers, which read them while the next piece is received; decide each item once its
    files are read."""
    report = BatchReport(received=len(items))
    rows: list[IntakeRow] = []
    pending: dict[int, tuple[IntakeRow, RawItem]] = {}
    candidates: dict[int, list[Candidate]] = {}
    with intake.reader.start() as reading:
        reads = _Reads(reading)
        for piece in _pieces(items):
            rows += _take_in(session, intake, piece, pending, candidates, reads)
        _decide(session, intake, [row for row, _ in pending.values()], candidates, reads)
    session.commit()
    for row in rows:
        report.count(row.status)
        report.intake_ids.append(row.id)
    return report


def _pieces(items: Sequence[RawItem]) -> Iterator[Sequence[RawItem]]:
    """``_FIRST_PIECE`` items, then ``_PIECE`` at a time."""
    start = 0
    while start < len(items):
        end = start + (_FIRST_PIECE if start == 0 else _PIECE)
        yield items[start:end]
        start = end


def _take_in(
    session: Session,
    intake: Intake,
    piece: Sequence[RawItem],
    pending: dict[int, tuple[IntakeRow, RawItem]],
    candidates: dict[int, list[Candidate]],
    reads: _Reads,
) -> list[IntakeRow]:
    """Receive a piece and commit it; then store, record and commit the files of its items
    still undecided (found again if recorded before a crash) and send their workbooks to the
    workers. Adds to ``pending`` and ``candidates``; the piece's rows, in order."""
    envelopes = [read_envelope(i.data) if i.is_message else None for i in piece]
    rows = receive(session, intake, piece, envelopes)
    session.commit()
    fresh: list[tuple[IntakeRow, RawItem]] = []
    for row, item in zip(rows, piece, strict=True):
        if row.status == "received" and row.id not in pending:
            pending[row.id] = (row, item)
            fresh.append((row, item))
    files = _record_files(session, intake, fresh, _files_recorded(session, fresh), reads)
    session.commit()
    candidates.update(files)
    _read_all(intake, [c for cs in files.values() for c in cs], reads)
    return rows


def _files_recorded(
    session: Session, pending: Sequence[tuple[IntakeRow, RawItem]]
) -> dict[tuple[int, int], IntakeFileRow]:
    """The files of these records already recorded (before a crash), by (intake, index)."""
    existing: dict[tuple[int, int], IntakeFileRow] = {}
    for chunk in _chunks(sorted(row.id for row, _ in pending)):
        query = select(IntakeFileRow).where(IntakeFileRow.intake_id.in_(chunk))
        for file_row in session.scalars(query):
            existing[(file_row.intake_id, file_row.index)] = file_row
    return existing


def _record_files(
    session: Session,
    intake: Intake,
    pending: Sequence[tuple[IntakeRow, RawItem]],
    existing: dict[tuple[int, int], IntakeFileRow],
    reads: _Reads,
) -> dict[int, list[Candidate]]:
    """Store the files of these items durably and record each (unless recorded before),
    keeping the workers busy with the files of earlier pieces meanwhile."""
    expanded: dict[int, list[tuple[FoundFile, Verdict | None, Kind]]] = {}
    for row, item in pending:
        if item.is_message:
            found = read_files(item.data)
        else:
            found = [FoundFile(item.ref.rsplit("/", 1)[-1], None, item.data, ())]
        expanded[row.id] = _expand_archives(found)
        reads.poll()
    shas = iter(intake.store.put_many(f.data for fs in expanded.values() for f, _, _ in fs))
    candidates: dict[int, list[Candidate]] = {}
    for intake_id, files in expanded.items():
        candidates[intake_id] = []
        for index, (file, verdict, kind) in enumerate(files):
            sha = next(shas)
            earlier = existing.get((intake_id, index))
            if earlier is not None:
                file_row = earlier
            else:
                file_row = IntakeFileRow(
                    intake_id=intake_id, index=index, sha256=sha,
                    filename=_clip(file.filename, 1000),
                    content_type=_clip(file.content_type, 255), size=len(file.data),
                    outcome="received", path=list(file.path),
                )  # fmt: skip
                session.add(file_row)
            candidates[intake_id].append(Candidate(file_row, file, kind, verdict))
    session.flush()
    return candidates


def _expand_archives(found: Sequence[FoundFile]) -> list[tuple[FoundFile, Verdict | None, Kind]]:
    """Sniff every file by content; unpack zip archives one level; keep everything found."""
    out: list[tuple[FoundFile, Verdict | None, Kind]] = []
    for file in found:
        kind = sniff(file.data, file.filename)
        if kind is not Kind.ZIP:
            out.append((file, None, kind))
            continue
        try:
            inner = unpack_archive(file.data)
        except FileRejected as rejected:
            out.append((file, _rejection(rejected), kind))
            continue
        out.append((file, Verdict(Outcome.IGNORED, "archive"), kind))
        for member in inner:
            nested = FoundFile(member.filename, member.content_type, member.data,
                               (*file.path, file.filename or "archive.zip"))  # fmt: skip
            out.append((nested, None, sniff(member.data, member.filename)))
    return out


def _rejection(rejected: FileRejected) -> Verdict:
    outcome = Outcome.QUARANTINED if is_hostile(rejected.code) else Outcome.REJECTED
    return Verdict(outcome, f"file:{rejected.code}", dict(rejected.detail))


def _read_all(intake: Intake, candidates: Sequence[Candidate], reads: _Reads) -> None:
    """Send every workbook among these (stored and recorded) files to the isolated workers,
    which pre-check each file before parsing it; the rest are settled here."""
    to_read: list[Candidate] = []
    for candidate in candidates:
        if candidate.verdict is not None or candidate.row.outcome != "received":
            continue
        if candidate.kind in UNREADABLE_WORKBOOK_KINDS:
            refused = refusal(candidate.kind)
            assert refused is not None
            candidate.verdict = _rejection(refused)
            continue
        if candidate.kind not in WORKBOOK_KINDS:
            candidate.verdict = Verdict(Outcome.IGNORED, "not-a-workbook")
            continue
        to_read.append(candidate)
    reads.add(to_read)


class _Reads:
    """The batch's workbooks being read: each result goes to its candidate as it comes in."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading
        self._waiting: dict[int, Candidate] = {}

    @property
    def done(self) -> bool:
        return not self._waiting

    def add(self, candidates: Sequence[Candidate]) -> None:
        items: list[tuple[bytes, Kind]] = []
        for candidate in candidates:
            assert candidate.kind is not None  # only workbooks are read
            items.append((candidate.found.data, candidate.kind))
            candidate.unread = True
        indexes = self.reading.add(items)
        self._waiting.update(zip(indexes, candidates, strict=True))
        self._take()

    def poll(self, wait: bool = False) -> None:
        """Hand out results and keep the workers busy; with ``wait``, wait for a result."""
        self.reading.poll(wait=wait and not self.done)
        self._take()

    def _take(self) -> None:
        for index, result in self.reading.take():
            candidate = self._waiting.pop(index)
            candidate.unread = False
            if isinstance(result, FileRejected):
                candidate.verdict = _rejection(result)
            else:
                candidate.parsed = result


def _decide(
    session: Session,
    intake: Intake,
    rows: Sequence[IntakeRow],
    candidates: dict[int, list[Candidate]],
    reads: _Reads,
) -> None:
    """Decide the records in order, each once its files are read, while the workers read the
    next: a wave of at least ``_WAVE`` records at a time (or what is left), whose files'
    identities are looked up together, so the instances and submissions they name are read
    in a query or two per wave."""
    known = Known(session)
    start = 0
    while start < len(rows):
        reads.poll()
        end = start
        while end < len(rows) and not any(c.unread for c in candidates[rows[end].id]):
            end += 1
        if end < len(rows) and end - start < _WAVE:
            reads.poll(wait=True)
            continue
        wave = rows[start:end]
        for row in wave:
            for candidate in candidates[row.id]:
                if candidate.row.outcome == "received" and candidate.verdict is None:
                    candidate.who = _identify(intake, candidate, row.sender)
        known.load(
            c.who.identity
            for row in wave
            for c in candidates[row.id]
            if isinstance(c.who, Identified)
        )
        for row in wave:
            _decide_one(session, intake, row, candidates[row.id], known)
            reads.poll()
        start = end


def _decide_one(
    session: Session,
    intake: Intake,
    row: IntakeRow,
    candidates: list[Candidate],
    known: Known,
) -> None:
    for candidate in candidates:
        if candidate.row.outcome != "received":
            continue  # decided before a crash
        verdict = candidate.verdict or _judge(session, intake, row, candidate, known)
        candidate.row.outcome = verdict.outcome.value
        candidate.row.reason = verdict.code
        if verdict.code != "invalid":  # an invalid file keeps its list of cell problems
            candidate.row.problems = [dict(verdict.detail)] if verdict.detail else []
    _settle(intake, row, candidates)
    append_event(
        session, intake.clock, f"intake.{row.status}", campaign_id=row.campaign_id,
        subject=f"intake/{row.id}", payload={"reason": row.reason, "sender": row.sender},
    )  # fmt: skip


def _identify(intake: Intake, candidate: Candidate, sender: str | None) -> Identified | Verdict:
    parsed = candidate.parsed
    assert parsed is not None
    claimed = (parsed.metadata or {}).get("unit_id")
    if claimed in intake.bundle.units_by_id:
        candidate.row.unit_id = claimed  # whom the file claims to be from, held or not
    who = identify(parsed.metadata, sender, intake.bundle, intake.secret)
    no_template = isinstance(who, Verdict) and who.code == "no-metadata"
    if no_template and unit_of_sender(intake.bundle, sender) is None:
        return Verdict(Outcome.HELD, "unknown-sender-no-template", {"sender": sender or "?"})
    return who


def _judge(
    session: Session, intake: Intake, row: IntakeRow, candidate: Candidate, known: Known
) -> Verdict:
    who, parsed = candidate.who, candidate.parsed
    assert who is not None
    assert parsed is not None
    if isinstance(who, Verdict):
        return who
    return accept_or_reject(session, intake, row, candidate.row, who, parsed, known)


@dataclass(frozen=True)
class _Version:
    """What deciding needs of a recorded submission (its rows are left in the ledger)."""

    intake_file_id: int | None
    sha256: str
    version: int


class Known:
    """The instances and submissions that decisions look up, read from the ledger once and kept
    up to date as submissions are added, so the files of one batch see each other's versions.
    ``load`` reads many at once; whatever it did not read is read when first asked for."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._instances: dict[tuple[str, str, str, str], InstanceRow | None] = {}
        self._versions: dict[int, list[_Version]] = {}

    def load(self, identities: Iterable[TemplateIdentity]) -> None:
        """The instances of these identities and their submissions: a query or two each."""
        wanted = {_key(i) for i in identities} - self._instances.keys()
        self._load_instances(wanted)
        for key in wanted:
            self._instances.setdefault(key, None)
        ids = {i.id for k in wanted if (i := self._instances[k]) is not None}
        self._load_versions(sorted(ids - self._versions.keys()))

    def _load_instances(self, keys: set[tuple[str, str, str, str]]) -> None:
        """The instances of the units, deliverables and periods named: a query a campaign (a
        few more rows than asked for when several deliverables or periods are named)."""
        named: dict[str, tuple[set[str], set[str], set[str]]] = {}
        for campaign_id, deliverable_id, unit_id, period in keys:
            deliverables, units, periods = named.setdefault(campaign_id, (set(), set(), set()))
            deliverables.add(deliverable_id)
            units.add(unit_id)
            periods.add(period)
        for campaign_id, (deliverables, units, periods) in named.items():
            for chunk in _chunks(sorted(units)):
                query = select(InstanceRow).where(
                    InstanceRow.campaign_id == campaign_id,
                    InstanceRow.unit_id.in_(chunk),
                    InstanceRow.withdrawn.is_(False),
                )
                if len(deliverables) <= _IN_CHUNK and len(periods) <= _IN_CHUNK:
                    query = query.where(
                        InstanceRow.deliverable_id.in_(sorted(deliverables)),
                        InstanceRow.period.in_(sorted(periods)),
                    )
                for instance in self.session.scalars(query):
                    key = (instance.campaign_id, instance.deliverable_id, instance.unit_id,
                           instance.period)  # fmt: skip
                    self._instances.setdefault(key, instance)

    def _load_versions(self, instance_ids: list[int]) -> None:
        for instance_id in instance_ids:
            self._versions[instance_id] = []
        for chunk in _chunks(instance_ids):
            query = select(
                SubmissionRow.instance_id, SubmissionRow.intake_file_id, SubmissionRow.sha256,
                SubmissionRow.version,
            ).where(SubmissionRow.instance_id.in_(chunk))  # fmt: skip
            for instance_id, file_id, sha, version in self.session.execute(query).tuples():
                self._versions[instance_id].append(_Version(file_id, sha, version))

    def instance(self, identity: TemplateIdentity) -> InstanceRow | None:
        """The instance the identity names, unless withdrawn."""
        key = _key(identity)
        if key not in self._instances:
            self._instances[key] = self.session.scalars(
                select(InstanceRow).where(
                    InstanceRow.campaign_id == identity.campaign_id,
                    InstanceRow.deliverable_id == identity.deliverable_id,
                    InstanceRow.unit_id == identity.unit_id,
                    InstanceRow.period == identity.period,
                    InstanceRow.withdrawn.is_(False),
                )
            ).first()
        return self._instances[key]

    def versions(self, instance_id: int) -> list[_Version]:
        """The submissions of an instance, those added since included."""
        if instance_id not in self._versions:
            query = select(
                SubmissionRow.intake_file_id, SubmissionRow.sha256, SubmissionRow.version
            ).where(SubmissionRow.instance_id == instance_id)
            self._versions[instance_id] = [
                _Version(file_id, sha, version)
                for file_id, sha, version in self.session.execute(query).tuples()
            ]
        return self._versions[instance_id]


def _key(identity: TemplateIdentity) -> tuple[str, str, str, str]:
    return (identity.campaign_id, identity.deliverable_id, identity.unit_id, identity.period)


def accept_or_reject(
    session: Session,
    intake: Intake,
    row: IntakeRow,
    file_row: IntakeFileRow,
    who: Identified,
    parsed: ParsedWorkbook,
    known: Known | None = None,
) -> Verdict:
    """Validate an identified workbook; a valid one becomes the instance's next version."""
    known = known or Known(session)
    identity = who.identity
    file_row.unit_id = who.unit.id
    instance = known.instance(identity)
    if instance is None:
        detail = {"unit_name": who.unit.name, "deliverable": identity.deliverable_id,
                  "period": identity.period}  # fmt: skip
        return Verdict(Outcome.REJECTED, "no-duty", detail)
    file_row.instance_id = instance.id
    form = intake.bundle.campaign.form(
        intake.bundle.campaign.deliverable(instance.deliverable_id).form
    )
    checked = validation_of(form, instance.deliverable_id, who.template_version, parsed)
    if not checked.valid:
        file_row.problems = [_problem_json(p) for p in checked.problems]
        return Verdict(Outcome.REJECTED, "invalid", {"count": len(checked.problems)})
    return _submit(session, row, file_row, instance, checked.rows, checked.row_count, known)


def validation_of(form: Form, deliverable_id: str, version: str, parsed: ParsedWorkbook) -> Checked:
    """The worker's validation when it was for this deliverable and template version (the
    verified ones), else a validation here."""
    pre = parsed.prevalidated
    if pre is not None and (pre.deliverable_id, pre.template_version) == (deliverable_id, version):
        return pre.checked
    return validate_workbook(form, parsed.sheets, version, parsed.uncomputed)


def _problem_json(problem: Any) -> dict[str, Any]:
    return {"sheet": problem.sheet, "cell": problem.cell, "code": problem.code,
            "found": problem.found, "detail": dict(problem.detail)}  # fmt: skip


def _submit(
    session: Session,
    row: IntakeRow,
    file_row: IntakeFileRow,
    instance: InstanceRow,
    rows: dict[str, list[dict[str, Any]]],
    row_count: int,
    known: Known,
) -> Verdict:
    existing = known.versions(instance.id)
    mine = next((s for s in existing if s.intake_file_id == file_row.id), None)
    if mine is not None:  # recorded before a crash
        return Verdict(Outcome.ACCEPTED, "accepted", {"version": mine.version})
    same = next((s for s in existing if s.sha256 == file_row.sha256), None)
    if same is not None:
        return Verdict(Outcome.DUPLICATE, "duplicate-file", {"version": same.version})
    version = max((s.version for s in existing), default=0) + 1
    session.add(
        SubmissionRow(
            instance_id=instance.id,
            version=version,
            intake_file_id=file_row.id,
            sha256=file_row.sha256,
            received_at=row.received_at,
            on_time=row.received_at < instance.effective_due,
            row_count=row_count,
            rows=rows,
        )
    )
    existing.append(_Version(file_row.id, file_row.sha256, version))
    return Verdict(Outcome.ACCEPTED, "accepted", {"version": version})


def _settle(intake: Intake, row: IntakeRow, candidates: list[Candidate]) -> None:
    """The record's status: the most telling outcome among its files."""
    outcomes = {c.row.outcome for c in candidates}
    for outcome in _PRIORITY:
        if outcome.value in outcomes and outcome is not Outcome.IGNORED:
            chosen = next(c for c in candidates if c.row.outcome == outcome.value)
            row.status, row.reason = outcome.value, chosen.row.reason
            row.detail = (
                chosen.row.problems[0]
                if chosen.row.problems and outcome.value != "rejected"
                else {}
            )
            return
    known = unit_of_sender(intake.bundle, row.sender) is not None
    automatic = automatic_reason(row.subject, found_nothing=True)
    if automatic is not None:
        row.status, row.reason = Outcome.IGNORED.value, automatic
    elif known:
        row.status, row.reason = Outcome.REJECTED.value, "no-workbook"
    else:
        row.status, row.reason = Outcome.HELD.value, "no-workbook-unknown-sender"
