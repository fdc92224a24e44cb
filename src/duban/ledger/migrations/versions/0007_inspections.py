"""inspections: rounds, commitments, draws and assignments (双随机, issue 16); a finding's
item names the round it came from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("inspection_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", _WHEN, nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_inspection_rounds_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_rounds")),
        sa.UniqueConstraint(
            "campaign_id", "inspection_id", "label", name=op.f("uq_inspection_rounds_campaign_id")
        ),
    )
    op.create_table(
        "inspection_commitments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("round_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("unit_register", sa.Text(), nullable=False),
        sa.Column("inspector_register", sa.Text(), nullable=False),
        sa.Column("previous", _JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_commitments_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_commitments")),
        sa.UniqueConstraint("digest", name=op.f("uq_inspection_commitments_digest")),
        sa.UniqueConstraint("round_id", "seq", name=op.f("uq_inspection_commitments_round_id")),
    )
    op.create_table(
        "inspection_draws",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("commitment_id", _ID, nullable=False),
        sa.Column("seed", sa.Text(), nullable=False),
        sa.Column("result", _JSON, nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", _WHEN, nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["inspection_commitments.id"],
            name=op.f("fk_inspection_draws_commitment_id_inspection_commitments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
        sa.UniqueConstraint("commitment_id", name=op.f("uq_inspection_draws_commitment_id")),
    )
    op.create_table(
        "inspection_assignments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("round_id", _ID, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inspectors", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_inspection_assignments_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_inspection_assignments_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_assignments_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_assignments")),
        sa.UniqueConstraint("round_id", "unit_id", name=op.f("uq_inspection_assignments_round_id")),
    )
    with op.batch_alter_table("rectification_items") as batch:
        batch.add_column(sa.Column("inspection_round_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_rectification_items_inspection_round_id_inspection_rounds"),
            "inspection_rounds",
            ["inspection_round_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("rectification_items") as batch:
        batch.drop_constraint(
            op.f("fk_rectification_items_inspection_round_id_inspection_rounds"),
            type_="foreignkey",
        )
        batch.drop_column("inspection_round_id")
    op.drop_table("inspection_assignments")
    op.drop_table("inspection_draws")
    op.drop_table("inspection_commitments")
    op.drop_table("inspection_rounds")
