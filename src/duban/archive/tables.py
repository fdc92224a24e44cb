"""The ledger exported table by table: a CSV file and a JSON Schema beside it, per table.

Only the rows of one campaign: a table with a ``campaign_id`` column is filtered on it, a table
without one through its first foreign key to a table that is (an intake file through its intake
record, a submission through its duty), so no other campaign's rows and no board account (its
password hashes) ever leave the ledger.

Public-evaluation ballots stay anonymous (民主评议): their export keeps the marks and comments
and the evaluator's category, and leaves out every column that names or points to the evaluator
(id, sender, the ballot file's hash and intake file, the times it was received and recorded,
the row id, which follows the order the ballots came in and so the events that name the
evaluator), sorted by content instead.

Cells: empty for none, ISO 8601 for times, JSON for lists and mappings, ``true``/``false`` for
booleans, decimals as written. The files are UTF-8 with a byte-order mark, which Excel needs to
read Chinese from a CSV file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.orm import Session

from duban.ledger.schema import Base

LEFT_OUT_TABLES = frozenset({"board_users", "events", "event_links"})
"""Not a campaign's: the board's accounts; the event log and its hash chain have their own
file (``archive.events``)."""
ANONYMOUS = {
    "evaluation_ballots": (
        "id", "evaluator_id", "sender", "sha256", "intake_file_id", "received_at", "recorded_at",
    ),
}  # fmt: skip
"""Per table, the columns an export leaves out so no rating can be tied to a person."""
BATCH = 1000


@dataclass(frozen=True)
class Exported:
    table: str
    rows: int
    left_out: tuple[str, ...]


def export_ledger(session: Session, campaign_id: str, folder: Path) -> list[Exported]:
    """Write ``<table>.csv`` and ``<table>.schema.json`` for every table of the campaign."""
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for table in Base.metadata.sorted_tables:
        if table.name in LEFT_OUT_TABLES:
            continue
        left_out = ANONYMOUS.get(table.name, ())
        columns = [c for c in table.columns if c.name not in left_out]
        rows = _rows(session, table, campaign_id, [c.name for c in columns])
        count = _write_csv(folder / f"{table.name}.csv", [c.name for c in columns], rows)
        schema = json_schema(table, [c.name for c in columns], left_out, count)
        text = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (folder / f"{table.name}.schema.json").write_text(text, encoding="utf-8")
        done.append(Exported(table.name, count, left_out))
    return done


def campaign_filter(table: Table, campaign_id: str) -> ColumnElement[bool]:
    """The condition that keeps a table's rows to one campaign (see the module docstring)."""
    if table.name == "campaigns":
        return table.c.id == campaign_id
    if "campaign_id" in table.c:
        return table.c.campaign_id == campaign_id
    keys = sorted(table.foreign_keys, key=lambda k: (k.parent.nullable, k.parent.name))
    for key in keys:  # a column never empty first: a row with it empty would be lost
        parent = key.column.table
        if isinstance(parent, Table) and ("campaign_id" in parent.c or parent.name == "campaigns"):
            inner = select(key.column).where(campaign_filter(parent, campaign_id))
            return key.parent.in_(inner)
    for key in keys:
        parent = key.column.table
        if isinstance(parent, Table) and parent is not table:
            inner = select(key.column).where(campaign_filter(parent, campaign_id))
            return key.parent.in_(inner)
    raise ValueError(f"table {table.name} has no way to a campaign")


def _rows(
    session: Session, table: Table, campaign_id: str, names: list[str]
) -> Iterator[list[str]]:
    query: Select[Any] = select(*(table.c[name] for name in names))
    query = query.where(campaign_filter(table, campaign_id))
    if table.name in ANONYMOUS:  # few rows (one per evaluator and round): sorted by content
        cells = [[cell(v) for v in row] for row in session.execute(query)]
        yield from sorted(cells)
        return
    query = query.order_by(*table.primary_key.columns)
    result = session.execute(query.execution_options(yield_per=BATCH))
    for row in result:
        yield [cell(value) for value in row]


def _write_csv(path: Path, names: list[str], rows: Iterator[list[str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def cell(value: Any) -> str:
    """One value as the CSV cell the schema describes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def json_schema(
    table: Table, names: list[str], left_out: tuple[str, ...], rows: int
) -> dict[str, Any]:
    """A JSON Schema (2020-12) of one row as read back (each cell decoded as above)."""
    properties = {}
    for name in names:
        column = table.c[name]
        kind = _json_type(python_type(column.type))
        if column.nullable:
            kind = {**kind, "type": [*_listed(kind["type"]), "null"]}
        properties[name] = {**kind, "x-sql-type": str(column.type)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": table.name,
        "description": (table.comment or "") + f" ({rows} rows in {table.name}.csv)",
        "type": "object",
        "properties": properties,
        "required": [n for n in names if not table.c[n].nullable],
        "x-primary-key": [c.name for c in table.primary_key.columns],
        "x-left-out": list(left_out),
        "x-rows": rows,
        "x-csv": "UTF-8 with BOM, CRLF; empty cell = null; JSON for arrays and objects",
    }


def python_type(kind: Any) -> type:
    """The Python type a column's values have (a decorated type's underlying one): what the
    export writes a column as and what the restore reads it back as."""
    kind = getattr(kind, "impl", kind)
    try:
        found: type = kind.python_type
        return found
    except NotImplementedError:
        return str


def _listed(kind: str | list[str]) -> list[str]:
    return [kind] if isinstance(kind, str) else kind


def _json_type(kind: type) -> dict[str, Any]:
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return {"type": "integer"}
    if kind is datetime:
        return {"type": "string", "format": "date-time"}
    if kind is date:
        return {"type": "string", "format": "date"}
    if kind is Decimal:
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    if kind in (dict, list):
        return {"type": ["object", "array"]}
    return {"type": "string"}
