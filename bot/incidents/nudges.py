"""What a reminder says when it falls due (planned by bot.incidents.reminders): it checks the
incident again, and a reminder that no longer applies says nothing."""

from __future__ import annotations

from bot.durations import format_duration
from bot.incidents import service
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext, Reminder
from bot.incidents.reminders import BUDGET, COMMANDER, STATUS_UPDATE, status_interval
from bot.incidents.sync import sync
from bot.logs import incident_logs
from bot.mrkdwn import channel_link, escape
from bot.people import mention


async def fire(ctx: IncidentContext, *, incident_id: int, kind: str) -> bool:
    """Post the reminder if it still applies; True when something was said."""
    with incident_logs(incident_id):
        return await _fire(ctx, incident_id, kind)


async def _fire(ctx: IncidentContext, incident_id: int, kind: str) -> bool:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is None or not incident.is_open or incident.channel_id is None:
        return False
    if kind == COMMANDER:
        return await _commander_missing(ctx, incident)
    if kind == STATUS_UPDATE:
        return await _update_due(ctx, incident)
    if kind == BUDGET:
        await sync(ctx, incident)
        return True
    raise ValueError(f"unknown reminder kind {kind!r}")


async def _commander_missing(ctx: IncidentContext, incident: Incident) -> bool:
    if incident.acknowledged_at is not None:
        return False
    waited = format_duration(ctx.clock() - incident.created_at)
    if incident.commander:
        text = (
            f":rotating_light: {incident.ref}: {mention(incident.commander)} (on call) has not "
            f"acknowledged after {waited}. Anyone can take command: `/incident commander me`."
        )
    else:
        text = (
            f":rotating_light: {incident.ref} has had no incident commander for {waited}. "
            f"Take it with the button on the announcement or `/incident commander me`."
        )
    assert incident.channel_id is not None
    await ctx.chat.remind(
        channel=incident.channel_id,
        reminder=Reminder(incident_id=incident.id, ref=incident.ref, text=text),
    )
    if ctx.config.broadcast_channel:
        await ctx.chat.say(
            channel=ctx.config.broadcast_channel,
            text=f"{text} Channel: {channel_link(incident.channel_id)}",
        )
    return True


async def _update_due(ctx: IncidentContext, incident: Incident) -> bool:
    interval = status_interval(ctx, incident)
    if interval is None:
        return False
    who = mention(incident.commander) if incident.commander else "Commander"
    text = (
        f":memo: {who}: time for a status update on {incident.ref} "
        f"({escape(incident.severity)}: every {format_duration(interval)}). "
        "`/incident update &lt;what we know&gt;`"
    )
    assert incident.channel_id is not None
    await ctx.chat.remind(
        channel=incident.channel_id,
        reminder=Reminder(
            incident_id=incident.id,
            ref=incident.ref,
            text=text,
            snooze=ctx.config.reminders.snooze_choices,
        ),
    )
    return True
