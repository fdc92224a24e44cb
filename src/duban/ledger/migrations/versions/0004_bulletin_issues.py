"""bulletin issues: the issue number (期数) of each deliverable period's bulletin, per campaign

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletin_issues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("deliverable_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_bulletin_issues_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_issues")),
        sa.UniqueConstraint(
            "deliverable_id",
            "period",
            "campaign_id",
            name=op.f("uq_bulletin_issues_deliverable_id"),
        ),
        sa.UniqueConstraint("number", "campaign_id", name=op.f("uq_bulletin_issues_number")),
    )


def downgrade() -> None:
    op.drop_table("bulletin_issues")
