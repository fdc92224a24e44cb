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

This module only puts the steps in that order; each is a module of its own: ``receiving``
(items stored and recorded), ``candidates`` (their files found, archives expanded, stored and
recorded), ``reads`` (the workbooks in the workers' hands), ``settling`` (each file identified
and decided, the record settled), ``submitting`` (a workbook validated once and written as a
version) and ``known`` (the ledger look-ups deciding needs, a wave at a time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from duban.adapters.sources.model import RawItem
from duban.clock import Clock
from duban.implement.intake.candidates import Candidate, files_recorded, record_files
from duban.implement.intake.decide import Identified
from duban.implement.intake.known import Known
from duban.implement.intake.mime import read_envelope
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reads import Reads, to_read
from duban.implement.intake.receiving import receive
from duban.implement.intake.settling import decide_record, identify_file
from duban.ledger.db import relax_durability
from duban.ledger.schema import IntakeRow
from duban.ledger.store import append_events
from duban.model.loader import CampaignBundle

_PIECE = 16
"""Items received, and their files stored and recorded, before those go to the workers."""
_FIRST_PIECE = 4
"""The first piece is smaller, so the workers start sooner."""
_WAVE = 16
"""Records decided together once their files are read (unless fewer are left)."""


@dataclass
class Intake:
    """What intake needs, passed in: the campaign, the store, the reader, the secret, a clock,
    and the receiving servers whose verdict on a sender counts (``DUBAN_TRUSTED_AUTHSERV``;
    none: the From address decides alone)."""

    bundle: CampaignBundle
    store: RawStore
    reader: WorkbookReader
    secret: bytes
    clock: Clock
    trusted_authserv: frozenset[str] = frozenset()


@dataclass
class BatchReport:
    received: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    intake_ids: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


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
        reads = Reads(reading)
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
    reads: Reads,
) -> list[IntakeRow]:
    """Receive a piece and commit it; then store, record and commit the files of its items
    still undecided (found again if recorded before a crash) and send their workbooks to the
    workers. Adds to ``pending`` and ``candidates``; the piece's rows, in order. Both commits
    without waiting for the disk (``relax_durability``): the batch's last commit, before
    anything is answered or marked done, makes them durable; a power cut before it leaves
    the items in the mailbox and their raw bytes in the store, for the next run to record."""
    envelopes = [read_envelope(i.data) if i.is_message else None for i in piece]
    campaign_id = intake.bundle.campaign.id
    relax_durability(session)
    rows = receive(session, intake.store, intake.clock, campaign_id, piece, envelopes,
                   intake.trusted_authserv)  # fmt: skip
    session.commit()
    fresh: list[tuple[IntakeRow, RawItem]] = []
    for row, item in zip(rows, piece, strict=True):
        if row.status == "received" and row.id not in pending:
            pending[row.id] = (row, item)
            fresh.append((row, item))
    relax_durability(session)
    existing = files_recorded(session, fresh)
    files = record_files(session, intake.store, fresh, existing, reads.poll)
    session.commit()
    candidates.update(files)
    _read_all(intake, [c for cs in files.values() for c in cs], reads)
    return rows


def _read_all(intake: Intake, candidates: Sequence[Candidate], reads: Reads) -> None:
    """Send every workbook among these (stored and recorded) files to the isolated workers,
    which pre-check each file before parsing it; the rest are settled here."""
    reads.add(to_read(candidates))


def _decide(
    session: Session,
    intake: Intake,
    rows: Sequence[IntakeRow],
    candidates: dict[int, list[Candidate]],
    reads: Reads,
) -> None:
    """Decide the records in order, each once its files are read, while the workers read the
    next: a wave of at least ``_WAVE`` records at a time (or what is left), whose files'
    identities are looked up together, so the instances and submissions they name are read
    in a query or two per wave, and whose events are appended together."""
    bundle, secret = intake.bundle, intake.secret
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
                    candidate.who = identify_file(bundle, secret, candidate, row.sender)
        known.load(
            c.who.identity
            for row in wave
            for c in candidates[row.id]
            if isinstance(c.who, Identified)
        )
        events = []
        for row in wave:
            events.append(decide_record(session, bundle, intake.clock, row, candidates[row.id],
                                        known))  # fmt: skip
            reads.poll()
        append_events(session, events)
        start = end
