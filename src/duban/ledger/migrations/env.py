"""Alembic environment: duban always hands in a connection (see ``duban.ledger.db.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from duban.ledger.schema import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `duban init` (duban.ledger.db.migrate)")
run_migrations(connection)
