"""The audit_log table. Rows are only ever added: no code path updates or deletes one, and the
database refuses it too (triggers from migration 0008)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(40))  # the Slack user who asked
    action: Mapped[str] = mapped_column(String(20))  # run, approve, reject, resume
    playbook: Mapped[str] = mapped_column(String(64))
    # No foreign keys: the record outlives whatever it refers to.
    incident_id: Mapped[int] = mapped_column(index=True)
    run_id: Mapped[int | None]
    allowed: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
