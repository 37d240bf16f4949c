"""The incident's single timeline: every event, with when it happened and who did it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents.models import TimelineEntry


async def record(
    *,
    session: AsyncSession,
    incident_id: int,
    kind: str,
    text: str,
    now: datetime,
    at: datetime | None = None,
    actor: str | None = None,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    new_key: bool = False,
) -> TimelineEntry | None:
    """Add an entry that happened `at` (default: now); with a dedup_key already on this
    incident's timeline, add nothing.

    The unique constraint on (incident_id, dedup_key) backs this check up when two
    transactions race; the caller's transaction then fails and is retried. `new_key`: the
    caller knows the key cannot be there yet (it names a row this transaction made or
    changed), so the look is skipped and the constraint alone guards it.
    """
    if dedup_key is not None and not new_key:
        exists = await session.scalar(
            select(TimelineEntry.id).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.dedup_key == dedup_key
            )
        )
        if exists is not None:
            return None
    entry = TimelineEntry(
        incident_id=incident_id,
        at=at or now,
        kind=kind,
        text=text,
        actor=actor,
        link=link,
        data=data,
        dedup_key=dedup_key,
        recorded_at=now,
    )
    session.add(entry)
    return entry
