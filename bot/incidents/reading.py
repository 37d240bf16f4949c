"""One incident read outside a transaction (a session that only reads: on SQLite it does not
wait for the write lock)."""

from __future__ import annotations

from bot.context import Context
from bot.incidents import service
from bot.incidents.errors import NotFound
from bot.incidents.models import Incident
from bot.refs import format_ref


async def load(ctx: Context[object], *, incident_id: int) -> Incident:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"There is no {format_ref(incident_id)}.")
    return incident
