"""a random id per playbook run, for idempotency keys unique across databases

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00

Steps already run keep the key they stored (a resumed step sends it again); the random id only
names the steps a run has yet to take.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNS = sa.table("playbook_runs", sa.column("id", sa.Integer()), sa.column("uid", sa.String(32)))


def upgrade() -> None:
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    for (run_id,) in bind.execute(sa.select(_RUNS.c.id)).all():
        bind.execute(sa.update(_RUNS).where(_RUNS.c.id == run_id).values(uid=uuid.uuid4().hex))
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.drop_column("uid")
