"""Change flows: record a change event (once per event id) and announce it (what it means for
open incidents is bot.incidents.deploys')."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.changes import service
from bot.changes.events import ChangeRecorded
from bot.changes.models import Change, Freeze
from bot.changes.schemas import ChangeEvent
from bot.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    change: Change
    created: bool  # False: the event id was known; nothing was recorded again
    freeze: Freeze | None = None  # the freeze it arrived during


async def receive(
    ctx: Context[object], *, event: ChangeEvent, drill_incident_id: int | None = None
) -> Received:
    """Record the change (see record); a new one, outside drills, is announced."""
    received = await record(ctx, event=event, drill_incident_id=drill_incident_id)
    if received.created and drill_incident_id is None:
        await ctx.events.publish(
            ChangeRecorded(received.change.id, received.freeze.id if received.freeze else None)
        )
    return received


async def record(
    ctx: Context[object], *, event: ChangeEvent, drill_incident_id: int | None = None
) -> Received:
    """Record the change; a replay of a known event id answers the stored change."""
    now = ctx.clock()
    try:
        async with ctx.sessions.begin() as session:
            known = await service.find(session=session, event_id=event.id)
            if known is not None:
                return Received(change=known, created=False)
            frozen = (
                await service.active_freeze(session=session, service=event.service)
                if drill_incident_id is None
                else None
            )
            change = service.add(
                session=session,
                event=event,
                now=now,
                drill_incident_id=drill_incident_id,
                freeze_id=frozen.id if frozen else None,
            )
            await session.flush()
    except IntegrityError:
        # A concurrent delivery of the same event id committed first: answer that one.
        async with ctx.reading() as session:
            known = await service.find(session=session, event_id=event.id)
        if known is None:
            raise
        return Received(change=known, created=False)
    return Received(change=change, created=True, freeze=frozen)


def describe(change: Change) -> str:
    versions = (
        f" {change.previous_version} → {change.version}"
        if change.previous_version and change.version
        else f" {change.version}"
        if change.version
        else ""
    )
    by = f" by {change.author}" if change.author else ""
    return f"{change.kind} of {change.service}{versions}{by} at {change.at:%H:%M} UTC"
