"""inspection scores: each accepted scoresheet of a unit in a round, versioned (issue 16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspection_scores",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("round_id", _ID, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("intake_file_id", _ID, nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("inspector_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("maximum", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("scores", _JSON, nullable=False),
        sa.Column("findings", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_inspection_scores_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_inspection_scores_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_file_id"],
            ["intake_files.id"],
            name=op.f("fk_inspection_scores_intake_file_id_intake_files"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_scores_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_scores")),
        sa.UniqueConstraint(
            "round_id", "unit_id", "version", name=op.f("uq_inspection_scores_round_id")
        ),
        sa.UniqueConstraint(
            "sha256", "round_id", "unit_id", name=op.f("uq_inspection_scores_sha256")
        ),
    )


def downgrade() -> None:
    op.drop_table("inspection_scores")
