"""What changed before an incident: its service's changes, and those of the services it depends
on, in the look-back window, newest first (what its announcement shows)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.changes import service
from bot.changes.models import Change
from bot.context import Context
from bot.incidents.models import Incident


@dataclass(frozen=True)
class WhatChanged:
    changes: list[Change]  # newest first
    in_progress: list[Change]  # canary and shadow starts not yet ended


def watched_services(ctx: Context, name: str) -> list[str]:
    """The service and what it depends on (firebreak.yaml `depends_on`)."""
    svc = ctx.config.service(name)
    return list(dict.fromkeys([name, *(svc.depends_on if svc else [])]))


def dependents(ctx: Context, name: str) -> set[str]:
    """The service and every service that depends on it: whose incidents a change concerns."""
    return {name} | {n for n, svc in ctx.config.services.items() if name in svc.depends_on}


async def what_changed(ctx: Context, incident: Incident) -> WhatChanged:
    if incident.service is None:
        return WhatChanged([], [])
    async with ctx.reading() as session:
        found = await service.since(
            session=session,
            services=watched_services(ctx, incident.service),
            start=incident.created_at - ctx.config.changes.lookback,
            drill_incident_id=incident.id if incident.drill else None,
        )
    return WhatChanged(found, service.in_progress(found))
