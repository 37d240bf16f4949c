"""Freezes of a service's changes, started and lifted by the freeze playbooks' runs and the
error-budget policy; the deploy gate answers from them."""

from __future__ import annotations

from bot.changes import service
from bot.context import Context
from bot.incidents import timeline
from bot.incidents.models import Incident


async def freeze_started(
    ctx: Context[object],
    *,
    service_name: str,
    reason: str,
    by: str,
    source: str,
    incident: Incident,
) -> None:
    """Recorded for the deploy gate. A drill rehearses a freeze without freezing anything."""
    if incident.drill:
        return
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await service.freeze(
            session=session,
            service=service_name,
            reason=reason,
            by=by,
            source=source,
            incident_id=incident.id,
            now=now,
        )
        await timeline.record(
            session=session,
            incident_id=incident.id,
            kind="freeze.started",
            text=f"Changes to {service_name} frozen ({reason}): the deploy gate answers 423",
            actor=by,
            now=now,
        )


async def freeze_lifted(
    ctx: Context[object], *, service_name: str, by: str, incident: Incident
) -> None:
    if incident.drill:
        return
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        lifted = await service.lift(session=session, service=service_name, by=by, now=now)
        if lifted:
            await timeline.record(
                session=session,
                incident_id=incident.id,
                kind="freeze.lifted",
                text=f"Changes to {service_name} unfrozen: the deploy gate answers 200",
                actor=by,
                now=now,
            )
