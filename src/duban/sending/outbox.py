"""What duban sent, newest first: the ledger's message rows as plain data for ``duban outbox``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.ledger.schema import MessageRow


def outbox_rows(
    session: Session, *, kind: str | None, to: str | None, limit: int
) -> list[dict[str, Any]]:
    query = select(MessageRow).order_by(MessageRow.id.desc())
    if kind is not None:
        query = query.where(MessageRow.kind == kind)
    rows = []
    for row in session.scalars(query.limit(limit * 20 if to else limit)):
        if to is not None and to.lower() not in (r.lower() for r in row.recipients):
            continue
        rows.append(
            {"sent_at": row.sent_at, "kind": row.kind, "to": list(row.recipients),
             "subject": row.subject, "status": row.status, "message_id": row.message_id,
             "refused": row.refused, "error": row.error, "key": row.idempotency_key}
        )  # fmt: skip
        if len(rows) == limit:
            break
    return rows
