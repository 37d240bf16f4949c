"""The incident unit of work, the one way to change an incident: check who asks, change it in
one transaction, record it on the timeline, then bring the channel (topic, announcement) and
the reminders up to date (bot.incidents.sync)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents import service, timeline
from bot.incidents.errors import NotFound
from bot.incidents.models import Incident
from bot.incidents.permissions import SYSTEM, require_may_change
from bot.incidents.ports import IncidentContext
from bot.incidents.reading import load
from bot.incidents.sync import sync
from bot.refs import format_ref


@dataclass
class UnitOfWork:
    session: AsyncSession
    incident: Incident
    by: str
    now: datetime

    async def note(self, kind: str, text: str, **data: Any) -> None:
        self.incident.updated_at = self.now
        await timeline.record(
            session=self.session,
            incident_id=self.incident.id,
            kind=kind,
            text=text,
            actor=self.by,
            now=self.now,
            data=data or None,
        )


@asynccontextmanager
async def change(
    ctx: IncidentContext, *, incident_id: int, by: str, check: bool = True
) -> AsyncIterator[UnitOfWork]:
    """Yields the incident inside a transaction; commits, then syncs chat and reminders.

    The permission check asks the chat platform who is in the channel, so it runs before the
    transaction: no database lock is held across a network call.
    """
    if check and by != SYSTEM:
        await require_may_change(ctx, await load(ctx, incident_id=incident_id), by)
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=incident_id)
        if incident is None:
            raise NotFound(f"There is no {format_ref(incident_id)}.")
        yield UnitOfWork(session=session, incident=incident, by=by, now=ctx.clock())
    await sync(ctx, incident)


async def tell(ctx: IncidentContext, incident: Incident, text: str) -> None:
    """Say something in the incident's channel, once it has one."""
    if incident.channel_id:
        await ctx.chat.say(channel=incident.channel_id, text=text)
