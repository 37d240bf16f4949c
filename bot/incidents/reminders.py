"""Nudges so nothing is forgotten at 3 a.m.: a missing commander, a status update due.

plan() is called after every change and schedules (or cancels) each reminder under a stable
key, so planning twice, or after a restart, never duplicates one. When one is due,
bot.incidents.nudges.fire() checks the incident again: a reminder that no longer applies says
nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Context, Planned
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
    """All of the incident's reminders at once: one read of what is stored, and a write only
    for what differs (a storm plans each incident again after every change)."""
    schedule: list[Planned] = []
    cancel: list[str] = []
    rules = ctx.config.reminders
    if not incident.is_open:
        await ctx.reminders.plan(cancel=[key(incident.id, kind) for kind in KINDS])
        return
    commander_due = incident.created_at + rules.commander_after
    if incident.acknowledged_at is not None:
        cancel.append(key(incident.id, COMMANDER))
    elif commander_due > ctx.clock():
        # Once due it has fired (or fires at start from the persistent store): never again.
        schedule.append(_planned(incident, COMMANDER, commander_due))
    svc = ctx.config.service(incident.service)
    if svc is not None and svc.slo is not None:
        every = rules.budget_every
        schedule.append(_planned(incident, BUDGET, incident.created_at + every, every))
    else:
        cancel.append(key(incident.id, BUDGET))
    interval, due = status_interval(ctx, incident), next_update_at(ctx, incident)
    if interval is None or due is None:
        cancel.append(key(incident.id, STATUS_UPDATE))
    else:
        schedule.append(_planned(incident, STATUS_UPDATE, due, interval))
    await ctx.reminders.plan(schedule=schedule, cancel=cancel)


def _planned(
    incident: Incident, kind: str, at: datetime, every: timedelta | None = None
) -> Planned:
    return Planned(key(incident.id, kind), incident.id, kind, at, every)
