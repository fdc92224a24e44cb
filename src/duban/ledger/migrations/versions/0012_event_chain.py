"""event chain: a hash chain over each campaign's event log, beside the events (issue 19)

The links of the events already there are built here, in id order per campaign, without
touching an event (the events table stays append-only). The link's hash is
``duban.ledger.chain.link_hash`` (version ``duban-events/1``), imported rather than copied so
the chain a ledger was upgraded to is the one duban checks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from duban.ledger.chain import GENESIS, canonical_event, link_hash
from duban.ledger.types import JSONValue, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "event_links",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_links_event_id_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_links")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_event_links_chain")),
    )
    _link_existing()
    _append_only()


def _link_existing() -> None:
    events = sa.table(
        "events", sa.column("id", sa.Integer()), sa.column("at", UTCDateTime()),
        sa.column("campaign_id", sa.String()), sa.column("kind", sa.String()),
        sa.column("subject", sa.String()), sa.column("actor", sa.String()),
        sa.column("payload", JSONValue),
    )  # fmt: skip
    links = sa.table(
        "event_links", sa.column("event_id", sa.Integer()), sa.column("chain", sa.String()),
        sa.column("seq", sa.BigInteger()), sa.column("prev_sha256", sa.String()),
        sa.column("sha256", sa.String()),
    )  # fmt: skip
    bind = op.get_bind()
    heads: dict[str, tuple[int, str]] = {}
    batch: list[dict[str, object]] = []
    result = bind.execute(sa.select(events).order_by(events.c.id).execution_options(
        yield_per=_BATCH))  # fmt: skip
    for row in result:
        chain = row.campaign_id or ""
        seq, prev = heads.get(chain, (0, GENESIS))
        payload = json.loads(json.dumps(row.payload, default=str))
        data = canonical_event(row.id, row.at, row.campaign_id, row.kind, row.subject, row.actor,
                               payload)  # fmt: skip
        sha = link_hash(prev, data)
        heads[chain] = (seq + 1, sha)
        batch.append({"event_id": row.id, "chain": chain, "seq": seq + 1, "prev_sha256": prev,
                      "sha256": sha})  # fmt: skip
        if len(batch) == _BATCH:
            bind.execute(links.insert(), batch)
            batch = []
    if batch:
        bind.execute(links.insert(), batch)


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER event_links_append_only BEFORE UPDATE OR DELETE ON event_links "
            "FOR EACH ROW EXECUTE FUNCTION duban_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER event_links_no_truncate BEFORE TRUNCATE ON event_links "
            "FOR EACH STATEMENT EXECUTE FUNCTION duban_events_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER event_links_no_{action.lower()} BEFORE {action} ON event_links "
            "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_links_no_truncate ON event_links")
        op.execute("DROP TRIGGER IF EXISTS event_links_append_only ON event_links")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_links_no_update")
        op.execute("DROP TRIGGER IF EXISTS event_links_no_delete")
    op.drop_table("event_links")
