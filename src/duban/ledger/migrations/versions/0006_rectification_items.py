"""rectification items: the self-check ledger (整改台账, issue 15), and an index for one
thing's history in the event log

0001 created ``rectification_items`` as a placeholder nothing wrote to; it is dropped and
created again in its new shape (item codes, the unit's sequence, claims, verdicts, origins).
A ledger whose placeholder holds rows (written by hand) is refused rather than emptied.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM rectification_items")).scalar()
    if count:
        raise RuntimeError(
            f"rectification_items holds {count} rows that no version of duban wrote; "
            "move them aside before upgrading"
        )
    op.drop_table("rectification_items")
    op.create_table(
        "rectification_items",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=96), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("measure", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("partners", _JSON, nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("first_deadline", sa.Date(), nullable=True),
        sa.Column("long_term", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_files", _JSON, nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.Column("submission_id", _ID, nullable=True),
        sa.Column("origin_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_rectification_items_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_rectification_items_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_rectification_items_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_items")),
        sa.UniqueConstraint("code", "campaign_id", name=op.f("uq_rectification_items_code")),
        sa.UniqueConstraint(
            "origin_key", "campaign_id", name=op.f("uq_rectification_items_origin_key")
        ),
    )
    op.create_index(
        "ix_rectification_items_unit",
        "rectification_items",
        ["campaign_id", "unit_id", "seq"],
        unique=False,
    )
    # Not through batch_alter_table: on SQLite that may copy the events table, and its
    # append-only triggers with it; an index needs no copy.
    op.create_index(
        "ix_events_campaign_subject", "events", ["campaign_id", "subject"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_events_campaign_subject", table_name="events")
    op.drop_index("ix_rectification_items_unit", table_name="rectification_items")
    op.drop_table("rectification_items")
    op.create_table(
        "rectification_items",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("submission_id", _ID, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_rectification_items_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_rectification_items_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_items")),
    )
