"""Writing and reading the audit log. Keyword-only; there is deliberately no update or delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit.models import AuditEntry

MAX_REASON = 2000


def record(
    *,
    session: AsyncSession,
    at: datetime,
    actor: str,
    action: str,
    playbook: str,
    incident_id: int,
    run_id: int | None,
    allowed: bool,
    reason: str,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor=actor[:40],
        action=action,
        playbook=playbook[:64],
        incident_id=incident_id,
        run_id=run_id,
        allowed=allowed,
        reason=reason[:MAX_REASON],
    )
    session.add(entry)
    return entry


async def entries(
    *, session: AsyncSession, since: datetime | None = None, incident_id: int | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if incident_id is not None:
        query = query.where(AuditEntry.incident_id == incident_id)
    return (await session.scalars(query)).all()
