"""changes, freezes and drills

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "freezes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("started_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_freezes_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freezes")),
    )
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.create_index("ix_freezes_service_lifted", ["service", "lifted_at"], unique=False)

    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("previous_version", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("drill_incident_id", sa.Integer(), nullable=True),
        sa.Column("freeze_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["drill_incident_id"],
            ["incidents.id"],
            name=op.f("fk_changes_drill_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["freeze_id"],
            ["freezes.id"],
            name=op.f("fk_changes_freeze_id_freezes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
        sa.UniqueConstraint("event_id", name=op.f("uq_changes_event_id")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_service_at", ["service", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_changes_drill_incident_id"), ["drill_incident_id"], unique=False
        )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("drill", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("drill")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_drill_incident_id"))
        batch_op.drop_index("ix_changes_service_at")
    op.drop_table("changes")
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.drop_index("ix_freezes_service_lifted")
    op.drop_table("freezes")
