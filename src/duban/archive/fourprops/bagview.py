"""What the checks read: the bag on disk, its manifests checked once, its event log read once.

Everything is read from the bag alone (no ledger, no settings), in streams: CSV rows and event
lines are yielded one at a time, so the checks hold a few sets of names, never the files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duban.archive.events import EventsRead
from duban.archive.manifests import Manifests

LEFT_OUT = "left-out.csv"
"""``data/left-out.csv``: raw objects the ledger names that stay out by design (ballots)."""


@dataclass(frozen=True)
class BagView:
    root: Path
    info: dict[str, str]
    manifests: Manifests
    events: EventsRead

    def payload(self) -> list[str]:
        return self.manifests.payload()

    def files(self) -> Iterator[tuple[str, Path]]:
        """The payload files the manifests list and the bag has (``fixity`` names the rest)."""
        for relative in self.payload():
            path = self.root / relative
            if path.is_file():
                yield relative, path

    def sha256(self, relative: str) -> str:
        return self.manifests.listed.get(relative, {}).get("sha256", "").lower()

    def rows(self, relative: str) -> Iterator[dict[str, str]]:
        """A CSV file of the bag, row by row (nothing when it is not there)."""
        path = self.root / relative
        if not path.is_file():
            return
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)

    def event_lines(self) -> Iterator[dict[str, Any]]:
        """The events that parse as JSON objects (the chain check names the others)."""
        path = self.root / "data" / "events.jsonl"
        if not path.is_file():
            return
        with path.open("rb") as handle:
            for line in handle:
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    yield value

    def left_out(self) -> dict[str, str]:
        """Hash → why it stays out (``data/left-out.csv``)."""
        return {r["sha256"]: r["reason"] for r in self.rows(f"data/{LEFT_OUT}")}

    def recorded_missing(self) -> set[str]:
        """The hashes ``MISSING.txt`` says the raw store lacked when the bag was written."""
        path = self.root / "data" / "MISSING.txt"
        if not path.is_file():
            return set()
        with path.open(encoding="utf-8") as handle:
            return {line.split(" ", 1)[0] for line in handle if line.strip()}
