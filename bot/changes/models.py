"""ORM models: changes as the feed reported them, and freezes of a service's changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class Freeze(Base):
    """Changes to a service are frozen from started_at until lifted_at."""

    __tablename__ = "freezes"
    __table_args__ = (Index("ix_freezes_service_lifted", "service", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(80))  # a user id, or "error-budget policy"
    source: Mapped[str] = mapped_column(String(40))  # "playbook" or "budget_policy"
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(80))


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_service_at", "service", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sender's event id; unique, so a redelivery cannot record the change twice.
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(200))
    previous_version: Mapped[str | None] = mapped_column(String(200))
    author: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]  # when it happened
    received_at: Mapped[datetime]
    # A drill's simulated change belongs to that drill alone: no real incident shows it.
    drill_incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    # It arrived while the service was frozen.
    freeze_id: Mapped[int | None] = mapped_column(ForeignKey("freezes.id", ondelete="SET NULL"))

    @property
    def ref(self) -> str:
        return f"{self.kind} of {self.service}" + (f" {self.version}" if self.version else "")


class RegistryAlias(Base):
    """Where a model registry's alias was last seen pointing, for a service whose changes the
    registry is polled for (bot.changes.registry): the baseline a move is measured from."""

    __tablename__ = "registry_aliases"
    __table_args__ = (UniqueConstraint("service", "model", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    # Moves seen since the baseline: part of each move's event id, so moving back and forth
    # again is a new change, while polling the same state again is none.
    moves: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime]  # when the alias was first seen at this version
