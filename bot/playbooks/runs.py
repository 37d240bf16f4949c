"""ORM models of playbook runs and their steps: persisted as they go, so a crash loses nothing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class RunStatus(StrEnum):
    DRY_RUN = "dry_run"
    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the bot stopped mid-run; `/incident run resume` continues


class StepStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class PlaybookRun(Base):
    __tablename__ = "playbook_runs"
    __table_args__ = (
        # Two runs that change one service at once would fight: the database refuses the second.
        Index(
            "uq_playbook_runs_changing_service",
            "service",
            unique=True,
            sqlite_where=text("status = 'running' AND changes_state"),
            postgresql_where=text("status = 'running' AND changes_state"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, so the deployment API never takes a run of another database (a fresh or restored
    # one starts again at id 1) for a repeat of this one.
    uid: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    playbook: Mapped[str] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any]]
    changes_state: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(40))
    approved_by: Mapped[str | None] = mapped_column(String(40))
    progress_channel: Mapped[str | None] = mapped_column(String(40))
    progress_ts: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def ref(self) -> str:
        return f"run #{self.id} ({self.playbook})"

    def step_key(self, phase: str, position: int) -> str:
        """The idempotency key of one step: the same when the step is run again."""
        return f"firebreak-{self.uid}-{phase}-{position}"


class StepRun(Base):
    __tablename__ = "playbook_steps"
    __table_args__ = (UniqueConstraint("run_id", "phase", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_runs.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[str] = mapped_column(String(20))  # "main", or "compensate-<i>"
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(String(120))
    requests: Mapped[list[Any] | None]
    result: Mapped[dict[str, Any] | None]
    response_status: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


async def of_incident(
    *, session: AsyncSession, incident_id: int
) -> tuple[list[PlaybookRun], list[StepRun]]:
    """An incident's runs, oldest first, and their steps in order (postmortems, drill reports)."""
    runs = list(
        await session.scalars(
            select(PlaybookRun)
            .where(PlaybookRun.incident_id == incident_id)
            .order_by(PlaybookRun.id)
        )
    )
    steps = list(
        await session.scalars(
            select(StepRun)
            .where(StepRun.run_id.in_([r.id for r in runs]))
            .order_by(StepRun.run_id, StepRun.phase, StepRun.position)
        )
    )
    return runs, steps
