"""an index to find the latest outbox call that sets a message's state

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 03:05:00

Outbox.send looks up the latest call stored under a `replaces` key (a message's chat.update):
one asking for what that call already asks is not stored again. Without the index the look
scans every delivered call the retention keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_slack_outbox_queue_replaces", "slack_outbox", ["queue", "replaces", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_slack_outbox_queue_replaces", table_name="slack_outbox")
