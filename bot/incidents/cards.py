"""The card: what chat shows of an incident in announcements and updates."""

from __future__ import annotations

from bot.changes.models import Change
from bot.incidents import service
from bot.incidents.models import Incident
from bot.incidents.ports import ChangeLine, IncidentCard, IncidentContext
from bot.incidents.what_changed import what_changed


async def card_for(ctx: IncidentContext, incident: Incident) -> IncidentCard:
    async with ctx.reading() as session:
        firing = await service.firing_count(session=session, incident_id=incident.id)
    svc = ctx.config.service(incident.service)
    changed = await what_changed(ctx, incident)
    return IncidentCard(
        incident_id=incident.id,
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        service=incident.service,
        summary=incident.summary,
        description=incident.description,
        source_url=incident.source_url,
        runbook_url=incident.runbook_url or (svc.runbook_url if svc else None),
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        declared_by=incident.declared_by,
        alerts_firing=firing,
        commander=incident.commander,
        scribe=incident.scribe,
        acknowledged=incident.acknowledged_at is not None,
        handoff_to=incident.handoff_to,
        drill=incident.drill,
        changes=[line_of(c) for c in changed.changes[: ctx.config.changes.shown]],
        in_progress=[line_of(c) for c in changed.in_progress],
        changes_lookback=ctx.config.changes.lookback if incident.service else None,
    )


def line_of(change: Change) -> ChangeLine:
    return ChangeLine(
        change_id=change.id,
        kind=change.kind,
        service=change.service,
        version=change.version,
        previous_version=change.previous_version,
        author=change.author,
        link=change.link,
        at=change.at,
        during_freeze=change.freeze_id is not None,
    )
