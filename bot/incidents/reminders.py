"""Nudges so nothing is forgotten at 3 a.m.: a missing commander, a status update due.

plan() is called after every change and schedules (or cancels) each reminder under a stable
key, so planning twice, or after a restart, never duplicates one. fire() runs when one is due
and checks the incident again: a reminder that no longer applies says nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Context
from bot.durations import format_duration
from bot.incidents import service
from bot.incidents.models import Incident, format_ref
from bot.incidents.people import mention
from bot.incidents.ports import Reminder
from bot.logs import incident_logs
from bot.mrkdwn import channel_link, escape

COMMANDER = "commander"
STATUS_UPDATE = "status-update"
BUDGET = "budget"  # the live budget clock: the channel topic counts down
KINDS = (COMMANDER, STATUS_UPDATE, BUDGET)


def key(incident_id: int, kind: str) -> str:
    return f"{format_ref(incident_id)}-{kind}"


def status_interval(ctx: Context, incident: Incident) -> timedelta | None:
    return ctx.config.reminders.status_update_every.get(incident.severity_level)


def next_update_at(ctx: Context, incident: Incident) -> datetime | None:
    interval = status_interval(ctx, incident)
    if interval is None:
        return None
    due = (incident.last_update_at or incident.created_at) + interval
    snoozed = incident.update_snoozed_until
    return max(due, snoozed) if snoozed else due


async def plan(ctx: Context, incident: Incident) -> None:
    rules = ctx.config.reminders
    if not incident.is_open:
        for kind in KINDS:
            await ctx.reminders.cancel(key=key(incident.id, kind))
        return
    commander_due = incident.created_at + rules.commander_after
    if incident.acknowledged_at is not None:
        await ctx.reminders.cancel(key=key(incident.id, COMMANDER))
    elif commander_due > ctx.clock():
        # Once due it has fired (or fires at start from the persistent store): never again.
        await ctx.reminders.schedule(
            key=key(incident.id, COMMANDER),
            incident_id=incident.id,
            kind=COMMANDER,
            at=commander_due,
        )
    svc = ctx.config.service(incident.service)
    if svc is not None and svc.slo is not None:
        every = rules.budget_every
        await ctx.reminders.schedule(
            key=key(incident.id, BUDGET),
            incident_id=incident.id,
            kind=BUDGET,
            at=incident.created_at + every,
            every=every,
        )
    else:
        await ctx.reminders.cancel(key=key(incident.id, BUDGET))
    interval, due = status_interval(ctx, incident), next_update_at(ctx, incident)
    if interval is None or due is None:
        await ctx.reminders.cancel(key=key(incident.id, STATUS_UPDATE))
    else:
        await ctx.reminders.schedule(
            key=key(incident.id, STATUS_UPDATE),
            incident_id=incident.id,
            kind=STATUS_UPDATE,
            at=due,
            every=interval,
        )


async def fire(ctx: Context, *, incident_id: int, kind: str) -> bool:
    """Post the reminder if it still applies; True when something was said."""
    with incident_logs(incident_id):
        return await _fire(ctx, incident_id, kind)


async def _fire(ctx: Context, incident_id: int, kind: str) -> bool:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is None or not incident.is_open or incident.channel_id is None:
        return False
    if kind == COMMANDER:
        return await _commander_missing(ctx, incident)
    if kind == STATUS_UPDATE:
        return await _update_due(ctx, incident)
    if kind == BUDGET:
        # changes imports this module to plan reminders: import it where it is needed.
        from bot.incidents.changes import sync

        await sync(ctx, incident)
        return True
    raise ValueError(f"unknown reminder kind {kind!r}")


async def _commander_missing(ctx: Context, incident: Incident) -> bool:
    if incident.acknowledged_at is not None:
        return False
    waited = format_duration(ctx.clock() - incident.created_at)
    if incident.commander:
        text = (
            f":rotating_light: {incident.ref}: {mention(incident.commander)} (on call) has not "
            f"acknowledged after {waited}. Anyone can take command: `/incident commander @me`."
        )
    else:
        text = (
            f":rotating_light: {incident.ref} has had no incident commander for {waited}. "
            f"Take it with the button on the announcement or `/incident commander @me`."
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


async def _update_due(ctx: Context, incident: Incident) -> bool:
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
