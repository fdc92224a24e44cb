"""The batch's workbooks in the workers' hands: which files go to them, and each result
handed to its candidate as it comes in.

Only workbooks are read; a file of a kind no reader opens is refused with what it is, and any
other file is kept, not processed. The workers pre-check each file before parsing it.
"""

from __future__ import annotations

from collections.abc import Sequence

from duban.implement.intake.candidates import Candidate, rejection
from duban.implement.intake.decide import Outcome, Verdict
from duban.implement.intake.reader import Reading
from duban.implement.intake.reasons import FileRejected
from duban.implement.intake.sniff import UNREADABLE_WORKBOOK_KINDS, WORKBOOK_KINDS, Kind, refusal


def to_read(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The workbooks among these (stored and recorded) files still undecided; the files that
    are no readable workbook are settled here."""
    workbooks: list[Candidate] = []
    for candidate in candidates:
        if candidate.verdict is not None or candidate.row.outcome != "received":
            continue
        if candidate.kind in UNREADABLE_WORKBOOK_KINDS:
            refused = refusal(candidate.kind)
            assert refused is not None
            candidate.verdict = rejection(refused)
            continue
        if candidate.kind not in WORKBOOK_KINDS:
            candidate.verdict = Verdict(Outcome.IGNORED, "not-a-workbook")
            continue
        workbooks.append(candidate)
    return workbooks


class Reads:
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
                candidate.verdict = rejection(result)
            else:
                candidate.parsed = result
