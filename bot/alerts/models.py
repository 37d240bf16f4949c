"""One stored alert occurrence: an alert (fingerprint) that started firing at one time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class AlertOccurrence(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # Alertmanager delivers at least once: the same occurrence must map to one row.
        UniqueConstraint("source", "fingerprint", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(8))
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    generator_url: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    resolved_received_at: Mapped[datetime | None]
