"""A bag's ledger read back into a fresh, temporary SQLite ledger, for the replay.

The replay (``archive.replay``) recomputes what the bag recorded from the bag alone, with the
same code the live ledger is checked with (``duban evaluate verify``, ``duban inspect
verify``); that code reads a ledger, so the bag's tables are put back into one: the schema
made by the migrations, then ``data/ledger/<table>.csv`` table by table in dependency order,
each cell decoded by its column's type (the reverse of ``tables.cell``), then
``data/events.jsonl`` into ``events`` and ``event_links``.

A table whose export left out a column the schema requires (the anonymous ballots) is not
restored, and said so. The campaign is loaded from the bag's own copy under
``data/campaign/`` (its roster and registers put where the campaign file names them).
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from duban.archive.events import FILE as EVENTS
from duban.archive.tables import ANONYMOUS, LEFT_OUT_TABLES, python_type
from duban.ledger.db import make_engine, migrate
from duban.ledger.schema import Base, EventLinkRow, EventRow
from duban.model.loader import CampaignBundle, load_campaign

BATCH = 1000
CAMPAIGN_FILES = ("roster", "inspectors", "evaluators")


@dataclass
class Restored:
    """The restored ledger and what could not be put back."""

    engine: Engine
    bundle: CampaignBundle
    bag: Path
    scratch: Path
    tables: dict[str, int] = field(default_factory=dict)  # table → rows restored
    skipped: dict[str, str] = field(default_factory=dict)  # anonymous table → why (English)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file [line], what)
    events: int = 0

    def session(self) -> Session:
        return Session(self.engine)


@contextmanager
def restored(bag: Path) -> Iterator[Restored]:
    """The bag's ledger in a temporary SQLite file, and its campaign, removed after use."""
    with tempfile.TemporaryDirectory(prefix="duban-replay-") as scratch:
        folder = Path(scratch)
        bundle = load_campaign(campaign_copy(bag / "data" / "campaign", folder / "campaign"))
        engine = make_engine(f"sqlite:///{folder / 'ledger.sqlite3'}")
        try:
            migrate(engine)
            found = Restored(engine, bundle, bag, folder)
            _restore_tables(engine, bag / "data" / "ledger", found)
            found.events = _restore_events(engine, bag / "data" / EVENTS)
            yield found
        finally:
            engine.dispose()


def campaign_copy(source: Path, scratch: Path, name: str = "campaign.yaml") -> Path:
    """The campaign file ``source/name``, with each file it names where it names it: the bag's
    copy itself when they are there already, else a copy in ``scratch`` laid out as named."""
    path = source / name
    if not path.is_file():
        found = sorted(source.glob("*.y*ml"))
        path = found[0] if found else path
    named = _named_files(path)
    if all((source / name).is_file() for name in named):
        return path
    depth = max((Path(n).parts.count("..") for n in named), default=0)
    home = scratch.joinpath(*(["c"] * depth))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, home / path.name)
    for name in named:
        copied = source / Path(name).name
        if copied.is_file() and not Path(name).is_absolute():
            (home / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copied, home / name)
    return home / path.name


def _named_files(path: Path) -> list[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []  # load_campaign says what is wrong with it
    if not isinstance(data, dict):
        return []
    archive = data.get("archive")
    key = archive.get("office_key") if isinstance(archive, dict) else None
    return [str(data[k]) for k in CAMPAIGN_FILES if data.get(k)] + ([str(key)] if key else [])


# ---------------------------------------------------------------------------- tables


def _restore_tables(engine: Engine, folder: Path, found: Restored) -> None:
    with engine.connect() as connection:
        connection.execute(text("PRAGMA foreign_keys=OFF"))  # a campaign's rows, not all
        connection.commit()
        with connection.begin():
            for table in Base.metadata.sorted_tables:
                if table.name in LEFT_OUT_TABLES:
                    continue
                path = folder / f"{table.name}.csv"
                if not path.is_file():
                    found.unreadable.append((path.name, "missing: the table was not restored"))
                    continue
                why = _restore_table(connection, table, path, found)
                if why and table.name in ANONYMOUS:
                    found.skipped[table.name] = why
                elif why:
                    found.unreadable.append((path.name, f"not restored: {why}"))


def _restore_table(connection: Any, table: Table, path: Path, found: Restored) -> str | None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        unknown = [n for n in header if n not in table.c]
        if unknown:
            return f"columns the ledger does not have: {', '.join(unknown)}"
        lacking = [c.name for c in table.columns
                   if c.name not in header and not c.nullable and c.server_default is None
                   and not (c.primary_key and c.autoincrement is not False)]  # fmt: skip
        if lacking:
            return f"required columns left out of the export: {', '.join(lacking)}"
        kinds = [(python_type(table.c[n].type), bool(table.c[n].nullable)) for n in header]
        batch, count = [], 0
        for number, row in enumerate(reader, start=2):
            try:
                values = [decoded(v, *k) for v, k in zip(row, kinds, strict=True)]
            except (ValueError, ArithmeticError, TypeError) as error:
                found.unreadable.append((f"{path.name} line {number}", str(error)))
                continue
            batch.append(dict(zip(header, values, strict=True)))
            if len(batch) == BATCH:
                connection.execute(insert(table), batch)
                count, batch = count + len(batch), []
        if batch:
            connection.execute(insert(table), batch)
            count += len(batch)
    found.tables[table.name] = count
    return None


def decoded(value: str, kind: type, nullable: bool = True) -> Any:
    """One CSV cell back as the value ``tables.cell`` wrote it from (an empty cell is none,
    or the empty text in a column that is never none)."""
    if value == "":
        return "" if kind is str and not nullable else None
    if kind is bool:
        return value == "true"
    if kind is int:
        return int(value)
    if kind is Decimal:
        return Decimal(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind in (dict, list):
        return json.loads(value)
    return value


# ---------------------------------------------------------------------------- events


def _restore_events(engine: Engine, path: Path) -> int:
    if not path.is_file():
        return 0
    count = 0
    with engine.begin() as connection, path.open("rb") as handle:
        connection.execute(text("PRAGMA defer_foreign_keys=ON"))
        for line in handle:
            event = _event(line)
            if event is None:
                continue  # the event log's own check names it
            connection.execute(insert(EventRow), [{
                "id": event["id"], "at": datetime.fromisoformat(event["at"]),
                "campaign_id": event.get("campaign_id"), "kind": event["kind"],
                "subject": event.get("subject"), "actor": event["actor"],
                "payload": event.get("payload"),
            }])  # fmt: skip
            link = event.get("link")
            if link:
                connection.execute(insert(EventLinkRow), [{
                    "event_id": event["id"], "chain": event.get("campaign_id") or "",
                    "seq": link["seq"], "prev_sha256": link["prev_sha256"],
                    "sha256": link["sha256"],
                }])  # fmt: skip
            count += 1
    return count


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
        datetime.fromisoformat(event["at"])
        return event if isinstance(event.get("id"), int) and "kind" in event else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
