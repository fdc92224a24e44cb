"""sent message bytes: the raw store's hash of the exact bytes of each message sent (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("raw_sha256")
