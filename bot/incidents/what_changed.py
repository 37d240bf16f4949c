"""What changed before an incident: its service's changes, and those of the services it depends
on, in the look-back window, newest first (what its announcement shows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.changes import service as changes_service
from bot.changes.feed import watched_services
from bot.changes.models import Change
from bot.context import Context
from bot.incidents.models import Incident


@dataclass(frozen=True)
class WhatChanged:
    changes: list[Change]  # newest first
    in_progress: list[Change]  # canary and shadow starts not yet ended


async def what_changed(
    ctx: Context[object], incident: Incident, *, session: AsyncSession | None = None
) -> WhatChanged:
    """`session`: read in the caller's (the card reads all it shows in one), else in one of
    its own."""
    if incident.service is None:
        return WhatChanged([], [])
    if session is None:
        async with ctx.reading() as own:
            return await what_changed(ctx, incident, session=own)
    found = await changes_service.since(
        session=session,
        services=watched_services(ctx, incident.service),
        start=incident.created_at - ctx.config.changes.lookback,
        drill_incident_id=incident.id if incident.drill else None,
    )
    return WhatChanged(found, changes_service.in_progress(found))
