"""ORM models of an incident and its timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base
from bot.refs import format_ref
from bot.severity import Severity

if TYPE_CHECKING:
    from bot.alerts.models import AlertOccurrence


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MITIGATED = "mitigated"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        # One open incident per alert group, enforced by the database so that concurrent
        # deliveries of the same group cannot open two.
        Index(
            "uq_incidents_open_group",
            "source",
            "group_key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=Status.INVESTIGATING)
    severity: Mapped[str] = mapped_column(String(8))
    service: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))
    group_key: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    runbook_url: Mapped[str | None] = mapped_column(Text)
    declared_by: Mapped[str | None] = mapped_column(String(40))
    commander: Mapped[str | None] = mapped_column(String(40))
    scribe: Mapped[str | None] = mapped_column(String(40))
    handoff_to: Mapped[str | None] = mapped_column(String(40))  # offered, not yet accepted
    channel_topic: Mapped[str | None] = mapped_column(String(250))  # as last set, to skip no-ops
    channel_id: Mapped[str | None] = mapped_column(String(40))
    channel_name: Mapped[str | None] = mapped_column(String(80))
    announcement_ts: Mapped[str | None] = mapped_column(String(40))
    broadcast_ts: Mapped[str | None] = mapped_column(String(40))
    # The broadcast channel is configured by name; Slack updates a message by channel id.
    broadcast_channel_id: Mapped[str | None] = mapped_column(String(40))
    # Milestones. Detected is when Firebreak learned of it: created_at.
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]  # the first commander was assigned
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]  # the last status update posted
    update_snoozed_until: Mapped[datetime | None]  # no status-update reminder before this
    # Impact as responders state it; when unset, the alerts' firing intervals at full impact.
    impact_started_at: Mapped[datetime | None]
    impact_ended_at: Mapped[datetime | None]
    impact_fraction: Mapped[float | None]
    budget_ts: Mapped[str | None] = mapped_column(String(40))  # the pinned budget message
    # The highest share of the service's error budget already announced (0.5, 1.0).
    budget_announced: Mapped[float | None]
    # A rehearsal: marked DRILL everywhere, acting on a recording target, left out of budgets
    # and reports.
    drill: Mapped[bool] = mapped_column(default=False, server_default=false())

    alerts: Mapped[list[AlertOccurrence]] = relationship(
        order_by="AlertOccurrence.id", lazy="raise"
    )
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="incident", order_by="TimelineEntry.at, TimelineEntry.id", lazy="raise"
    )

    @property
    def ref(self) -> str:
        """The name responders use: INC-7."""
        return format_ref(self.id)

    @property
    def detected_at(self) -> datetime:
        return self.created_at

    @property
    def severity_level(self) -> Severity:
        return Severity(self.severity)

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (
        # A retried delivery (alert, Slack event) carries the same key and adds nothing.
        UniqueConstraint("incident_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(80))
    link: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="timeline", lazy="raise")
