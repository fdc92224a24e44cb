"""A message's files as candidates: found, archives expanded, stored and recorded before
anything reads them.

Every file found in a message (or a bare file from a drop folder) is sniffed by its content; a
zip archive is unpacked one level and kept beside what it held. Each file is written to the
content-addressed store and recorded as an intake file; a file recorded before a crash is
found again by ``(intake, index)``. A ``Candidate`` then carries the file through reading and
deciding. A message whose walk a limit cut short (too many parts, nested too deeply) carries
that as its reason until it is decided, so that ``settling`` can tell the sender to send the
workbook alone instead of saying none was attached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.sources.model import RawItem
from duban.implement.intake.archive import unpack_archive
from duban.implement.intake.chunks import chunks
from duban.implement.intake.decide import Outcome, Verdict, Who
from duban.implement.intake.mime import MAX_DEPTH, MAX_PARTS, TOO_MANY_PARTS, read_files
from duban.implement.intake.model import FoundFile
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reasons import FileRejected, is_hostile
from duban.implement.intake.receiving import clip
from duban.implement.intake.sniff import Kind, sniff
from duban.ledger.schema import IntakeFileRow, IntakeRow


@dataclass
class Candidate:
    """A stored, recorded file waiting to be read (or already decided without reading)."""

    row: IntakeFileRow
    found: FoundFile
    kind: Kind | None = None
    verdict: Verdict | None = None
    parsed: ParsedWorkbook | None = None
    who: Who | None = None
    unread: bool = False
    """Sent to the workers, not yet answered."""


def files_recorded(
    session: Session, pending: Sequence[tuple[IntakeRow, RawItem]]
) -> dict[tuple[int, int], IntakeFileRow]:
    """The files of these records already recorded (before a crash), by (intake, index)."""
    existing: dict[tuple[int, int], IntakeFileRow] = {}
    for chunk in chunks(sorted(row.id for row, _ in pending)):
        query = select(IntakeFileRow).where(IntakeFileRow.intake_id.in_(chunk))
        for file_row in session.scalars(query):
            existing[(file_row.intake_id, file_row.index)] = file_row
    return existing


def record_files(
    session: Session,
    store: RawStore,
    pending: Sequence[tuple[IntakeRow, RawItem]],
    existing: dict[tuple[int, int], IntakeFileRow],
    meanwhile: Callable[[], None],
) -> dict[int, list[Candidate]]:
    """Store the files of these items durably and record each (unless recorded before),
    calling ``meanwhile`` after each item's files are found (to keep the workers busy with
    the files of earlier pieces)."""
    expanded: dict[int, list[tuple[FoundFile, Verdict | None, Kind]]] = {}
    for row, item in pending:
        if item.is_message:
            found = read_files(item.data)
            _note_cut(row, found.cut)
            in_item = found.files
        else:
            in_item = [FoundFile(item.ref.rsplit("/", 1)[-1], None, item.data, ())]
        expanded[row.id] = expand_archives(in_item)
        meanwhile()
    shas = iter(store.put_many(f.data for fs in expanded.values() for f, _, _ in fs))
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
                    filename=clip(file.filename, 1000),
                    content_type=clip(file.content_type, 255), size=len(file.data),
                    outcome="received", path=list(file.path),
                )  # fmt: skip
                session.add(file_row)
            candidates[intake_id].append(Candidate(file_row, file, kind, verdict))
    session.flush()
    return candidates


def _note_cut(row: IntakeRow, cut: str | None) -> None:
    """A walk cut short becomes the record's reason until it is decided, unless the record
    already carries one (a doubted sender: held whatever its files)."""
    if cut is not None and row.reason is None:
        limit = MAX_PARTS if cut == TOO_MANY_PARTS else MAX_DEPTH
        row.reason, row.detail = cut, {"limit": limit}


def expand_archives(found: Sequence[FoundFile]) -> list[tuple[FoundFile, Verdict | None, Kind]]:
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
            out.append((file, rejection(rejected), kind))
            continue
        out.append((file, Verdict(Outcome.IGNORED, "archive"), kind))
        for member in inner:
            nested = FoundFile(member.filename, member.content_type, member.data,
                               (*file.path, file.filename or "archive.zip"))  # fmt: skip
            out.append((nested, None, sniff(member.data, member.filename)))
    return out


def rejection(rejected: FileRejected) -> Verdict:
    """A refused file's verdict: quarantined when hostile, else rejected."""
    outcome = Outcome.QUARANTINED if is_hostile(rejected.code) else Outcome.REJECTED
    return Verdict(outcome, f"file:{rejected.code}", dict(rejected.detail))
