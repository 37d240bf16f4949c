"""where each watched model-registry alias was last seen

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 16:29:05

The registry watcher (bot.changes.registry) records a change when a watched MLflow alias moves.
It measures a move from the version it last saw, kept here so that a restart or another
replica taking over finds the same baseline and records no phantom change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.Column("seen_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_aliases")),
        sa.UniqueConstraint(
            "service", "model", "alias", name=op.f("uq_registry_aliases_service_model_alias")
        ),
    )


def downgrade() -> None:
    op.drop_table("registry_aliases")
