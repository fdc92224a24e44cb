"""evaluation: ballots, adjustments, evaluations and their scores, appeals (issue 17); the
unused ``scores`` table dropped (no version of duban ever wrote it)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:17:15.125696
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closes_at", _WHEN, nullable=False),
        sa.Column("seed", sa.Text(), nullable=False),
        sa.Column("inputs", _JSON, nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("computed_at", _WHEN, nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", _WHEN, nullable=True),
        sa.Column("frozen_at", _WHEN, nullable=True),
        sa.Column("frozen_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_evaluations_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint(
            "campaign_id", "label", "version", name=op.f("uq_evaluations_campaign_id")
        ),
    )
    op.create_table(
        "evaluation_adjustments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_evaluation_adjustments_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_evaluation_adjustments_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_adjustments")),
        sa.UniqueConstraint(
            "campaign_id", "ref", name=op.f("uq_evaluation_adjustments_campaign_id")
        ),
    )
    op.create_table(
        "evaluation_scores",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("evaluation_id", _ID, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("commended", sa.Boolean(), nullable=False),
        sa.Column("lines", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_evaluation_scores_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_evaluation_scores_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_scores_evaluation_id_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_scores")),
        sa.UniqueConstraint(
            "evaluation_id", "unit_id", name=op.f("uq_evaluation_scores_evaluation_id")
        ),
    )
    op.create_table(
        "evaluation_appeals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("intake_file_id", _ID, nullable=True),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("correction", _JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id", "unit_id"],
            ["units.campaign_id", "units.id"],
            name=op.f("fk_evaluation_appeals_campaign_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_evaluation_appeals_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_file_id"],
            ["intake_files.id"],
            name=op.f("fk_evaluation_appeals_intake_file_id_intake_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_appeals")),
        sa.UniqueConstraint(
            "campaign_id",
            "label",
            "unit_id",
            "line",
            name=op.f("uq_evaluation_appeals_campaign_id"),
        ),
    )
    op.create_table(
        "evaluation_ballots",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("evaluator_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("intake_file_id", _ID, nullable=True),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.Column("marks", _JSON, nullable=False),
        sa.Column("comments", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_evaluation_ballots_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_file_id"],
            ["intake_files.id"],
            name=op.f("fk_evaluation_ballots_intake_file_id_intake_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_ballots")),
        sa.UniqueConstraint(
            "campaign_id",
            "source_id",
            "label",
            "evaluator_id",
            "sha256",
            name=op.f("uq_evaluation_ballots_campaign_id"),
        ),
    )
    op.drop_table("scores")


def downgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("campaign_id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("unit_id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("source", sa.VARCHAR(length=64), nullable=False),
        sa.Column("period", sa.VARCHAR(length=16), nullable=False),
        sa.Column("value", sa.NUMERIC(precision=8, scale=3), nullable=False),
        sa.Column("note", sa.TEXT(), nullable=True),
        sa.Column("recorded_at", sa.DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_scores_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint(
            "campaign_id", "unit_id", "source", "period", name=op.f("uq_scores_campaign_id")
        ),
    )
    op.drop_table("evaluation_ballots")
    op.drop_table("evaluation_appeals")
    op.drop_table("evaluation_scores")
    op.drop_table("evaluation_adjustments")
    op.drop_table("evaluations")
