"""The incident's lifecycle: investigating → identified → mitigated → monitoring → resolved,
its severity, status updates, and the milestones reports are built on."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.durations import format_duration
from bot.incidents import reminders, service
from bot.incidents.cards import card_for
from bot.incidents.errors import Refused
from bot.incidents.events import IncidentResolved
from bot.incidents.models import Incident, Status
from bot.incidents.ports import IncidentContext, StatusUpdate
from bot.incidents.unit_of_work import change, tell
from bot.mrkdwn import escape
from bot.people import mention
from bot.severity import Severity

log = logging.getLogger(__name__)
ORDER = list(Status)
MITIGATED_OR_LATER = {Status.MITIGATED, Status.MONITORING, Status.RESOLVED}


async def set_status(
    ctx: IncidentContext, *, incident_id: int, status: Status, by: str
) -> Incident:
    if status is Status.RESOLVED:
        return await resolve(ctx, incident_id=incident_id, by=by)
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        _require_open(incident)
        previous = incident.status
        if previous == status:
            raise Refused(f"{incident.ref} is already {status}.")
        incident.status = status
        if status in MITIGATED_OR_LATER and incident.mitigated_at is None:
            incident.mitigated_at = c.now
        await c.note(
            "status.changed",
            f"{mention(by)} changed status {previous} → {status}",
            previous=previous,
            status=status,
        )
    await tell(ctx, incident, f"{incident.ref} is now *{status}* ({mention(by)}).")
    return incident


async def set_severity(
    ctx: IncidentContext, *, incident_id: int, severity: Severity, by: str
) -> Incident:
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        _require_open(incident)
        previous = incident.severity
        if previous == severity:
            raise Refused(f"{incident.ref} is already {severity}.")
        incident.severity = severity
        await c.note(
            "severity.changed",
            f"{mention(by)} changed severity {previous} → {severity}",
            previous=previous,
            severity=severity,
        )
    await tell(ctx, incident, f"{incident.ref} is now *{severity}* ({mention(by)}).")
    return incident


async def resolve(ctx: IncidentContext, *, incident_id: int, by: str) -> Incident:
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        _require_open(incident)
        incident.status = Status.RESOLVED
        incident.resolved_at = c.now
        incident.handoff_to = None
        await c.note("incident.resolved", f"{mention(by)} resolved {incident.ref}")
    lasted = format_duration(
        timedelta(seconds=int((incident.resolved_at - incident.created_at).total_seconds()))
    )
    drill = "DRILL " if incident.drill else ""
    text = f":white_check_mark: {drill}{incident.ref} resolved by {mention(by)} after {lasted}."
    await tell(ctx, incident, text)
    if ctx.config.broadcast_channel:
        await ctx.chat.say(
            channel=ctx.config.broadcast_channel, text=f"{text} {escape(incident.title)}"
        )
    # A drill's report, or the postmortem draft, follow from this (subscribers in bot/app.py).
    await ctx.events.publish(IncidentResolved(incident.id, drill=incident.drill))
    return incident


async def alerts_firing(ctx: IncidentContext, *, incident_id: int) -> int:
    """How many of the incident's alerts are still firing: resolving while some are asks
    twice (the impact may not be over)."""
    async with ctx.reading() as session:
        return await service.firing_count(session=session, incident_id=incident_id)


async def reopen(ctx: IncidentContext, *, incident_id: int, by: str) -> Incident:
    try:
        async with change(ctx, incident_id=incident_id, by=by) as c:
            incident = c.incident
            if incident.is_open:
                raise Refused(f"{incident.ref} is not resolved; it is {incident.status}.")
            incident.status = Status.INVESTIGATING
            incident.resolved_at = None
            await c.note("incident.reopened", f"{mention(by)} reopened {incident.ref}")
            await c.session.flush()  # the one-open-incident-per-alert-group index checks here
    except IntegrityError as exc:
        raise Refused(
            "Another incident is already open for the same alert group; work it there instead."
        ) from exc
    await tell(
        ctx, incident, f":leftwards_arrow_with_hook: {incident.ref} reopened by {mention(by)}."
    )
    return incident


async def post_update(ctx: IncidentContext, *, incident_id: int, text: str, by: str) -> Incident:
    """A structured status update, in the incident channel and the broadcast channel."""
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        _require_open(incident)
        incident.last_update_at = c.now
        incident.update_snoozed_until = None
        await c.note("status.update", text)
    update = StatusUpdate(
        card=await card_for(ctx, incident),
        text=text,
        author=by,
        next_update_at=reminders.next_update_at(ctx, incident),
    )
    assert incident.channel_id is not None
    await ctx.chat.post_update(channel=incident.channel_id, update=update)
    if ctx.config.broadcast_channel:
        await ctx.chat.post_update(channel=ctx.config.broadcast_channel, update=update)
    return incident


async def snooze_updates(
    ctx: IncidentContext, *, incident_id: int, by: str, wait: timedelta
) -> Incident:
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        _require_open(incident)
        incident.update_snoozed_until = c.now + wait
        await c.note(
            "reminder.snoozed",
            f"{mention(by)} snoozed status-update reminders for {format_duration(wait)}",
        )
    return incident


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise Refused(f"{incident.ref} is resolved; `/incident reopen` it first.")
