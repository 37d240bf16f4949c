"""Reading the domain's state back in tests."""

from __future__ import annotations

from bot.context import Context
from bot.incidents import service
from bot.incidents.models import Incident


async def load_incident(ctx: Context, incident_id: int) -> Incident:
    """The incident with its alerts and timeline loaded."""
    async with ctx.sessions() as session:
        incident = await service.get(session=session, incident_id=incident_id, full=True)
    assert incident is not None, f"no INC-{incident_id}"
    return incident
