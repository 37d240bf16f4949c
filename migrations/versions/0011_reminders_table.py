"""reminders in a table of our own (was APScheduler's job store)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00

Each job APScheduler stored becomes a row: its id is the key, `INC-<n>-<kind>`; its trigger
gives the time it was planned for (and a repeating reminder's interval); its next run time is
when it falls due. A job whose trigger cannot be read keeps its next run time as a one-off.
Going down leaves APScheduler's table empty: reminders planned since are not carried back.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JOBS = sa.table(
    "apscheduler_jobs",
    sa.column("id", sa.Unicode(191)),
    sa.column("next_run_time", sa.Float()),
    sa.column("job_state", sa.LargeBinary()),
)


def upgrade() -> None:
    reminders = op.create_table(
        "reminders",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("anchor_at", bot.db.base.UTCDateTime(), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=True),
        sa.Column("due_at", bot.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_due_at"), "reminders", ["due_at"], unique=False)
    jobs = op.get_bind().execute(sa.select(_JOBS)).all()
    rows = [row for job in jobs if (row := _reminder(*job)) is not None]
    if rows:
        op.bulk_insert(reminders, rows)
    op.drop_index(op.f("ix_apscheduler_jobs_next_run_time"), table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")


def downgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index(
        op.f("ix_apscheduler_jobs_next_run_time"),
        "apscheduler_jobs",
        ["next_run_time"],
        unique=False,
    )
    op.drop_index(op.f("ix_reminders_due_at"), table_name="reminders")
    op.drop_table("reminders")


def _reminder(key: str, next_run_time: float | None, state: bytes) -> dict[str, Any] | None:
    ref, _, kind = key.partition("-")[2].partition("-")
    if not (key.startswith("INC-") and ref.isdigit() and kind and next_run_time is not None):
        return None  # not one of ours, or paused: nothing to carry over
    due = datetime.fromtimestamp(next_run_time, UTC)
    anchor, every = _trigger(state)
    return {
        "key": key,
        "incident_id": int(ref),
        "kind": kind,
        "anchor_at": anchor or due,
        "every_s": every.total_seconds() if every else None,
        "due_at": due,
    }


def _trigger(state: bytes) -> tuple[datetime | None, timedelta | None]:
    """(planned time, interval) from a stored job, read without importing APScheduler."""
    try:
        job = _JobReader(io.BytesIO(state)).load()
        trigger = job["trigger"].state
    except Exception:
        return None, None
    if "interval" in trigger:  # IntervalTrigger: start_date, interval
        return trigger.get("start_date"), trigger["interval"]
    return trigger.get("run_date"), None  # DateTrigger


class _Stored:
    """Any APScheduler object in a stored job: only its pickled state is kept."""

    def __init__(self, *_: object) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


class _JobReader(pickle.Unpickler):
    """Builds APScheduler's classes as _Stored, and no class from anywhere but datetime's
    and zoneinfo's modules: our own rows, but a pickle is code all the same."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "apscheduler":
            return _Stored
        if module in ("datetime", "zoneinfo", "zoneinfo._zoneinfo", "copyreg"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a stored reminder")
