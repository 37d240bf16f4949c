"""Nudges so nothing is forgotten at 3 a.m.: a missing commander, a status update due.

plan() is called after every change and schedules (or cancels) each reminder under a stable
key, so planning twice, or after a restart, never duplicates one. When one is due,
bot.incidents.nudges.fire() checks the incident again: a reminder that no longer applies says
nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Context
from bot.incidents.models import Incident
from bot.refs import format_ref

COMMANDER = "commander"
STATUS_UPDATE = "status-update"
BUDGET = "budget"  # the live budget clock: the pinned budget message counts down
KINDS = (COMMANDER, STATUS_UPDATE, BUDGET)


def key(incident_id: int, kind: str) -> str:
    return f"{format_ref(incident_id)}-{kind}"


def status_interval(ctx: Context[object], incident: Incident) -> timedelta | None:
    return ctx.config.reminders.status_update_every.get(incident.severity_level)


def next_update_at(ctx: Context[object], incident: Incident) -> datetime | None:
    interval = status_interval(ctx, incident)
    if interval is None:
        return None
    due = (incident.last_update_at or incident.created_at) + interval
    snoozed = incident.update_snoozed_until
    return max(due, snoozed) if snoozed else due


async def plan(ctx: Context[object], incident: Incident) -> None:
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
