"""intake files: place, path, unit and review; submissions: their validated rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:13:27.246122
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "detail",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
    with op.batch_alter_table("intake_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column(
                "path",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(sa.Column("unit_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_intake_files_intake_id"), ["intake_id", "index"]
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rows",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_records", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("rows")

    with op.batch_alter_table("intake_files", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_intake_files_intake_id"), type_="unique")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("unit_id")
        batch_op.drop_column("path")
        batch_op.drop_column("index")
