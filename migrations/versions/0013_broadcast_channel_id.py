"""the broadcast channel's id beside the broadcast announcement's ts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:40:00

Slack updates a message by channel id and ts; the broadcast channel is configured by name, so
the id Slack answered with is kept to bring the broadcast copy of the card up to date.
Announcements made before this revision have none and stay as they were posted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_channel_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("broadcast_channel_id")
