"""Change flows: record a change event (once per event id), show it to the incidents it
concerns, flag it when it arrives during a freeze; start and lift freezes; abort a rollout."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.changes import service
from bot.changes.feed import dependents
from bot.changes.models import Change, Freeze
from bot.changes.schemas import ROLLOUTS, ChangeEvent, ChangeKind
from bot.context import Context
from bot.incidents import changes as incident_changes
from bot.incidents import timeline
from bot.incidents.errors import NotFound, Refused
from bot.incidents.models import Incident, Status
from bot.incidents.people import mention
from bot.incidents.permissions import require_may_change
from bot.mrkdwn import escape, unescape

log = logging.getLogger(__name__)

# What ends a rollout, when a responder clicks its button.
ENDING = ROLLOUTS


@dataclass(frozen=True)
class Received:
    change: Change
    created: bool  # False: the event id was known; nothing was recorded again
    freeze: Freeze | None = None  # the freeze it arrived during


async def receive(
    ctx: Context, *, event: ChangeEvent, drill_incident_id: int | None = None
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


async def follow_up(ctx: Context, received: Received) -> None:
    """After the webhook is answered: each open incident the change concerns gets it on its
    timeline and in its announcement; a change made during a freeze is flagged in the
    freeze's incident channel."""
    change = received.change
    if not received.created or change.drill_incident_id is not None:
        return
    async with ctx.reading() as session:
        concerned = list(
            (
                await session.scalars(
                    select(Incident).where(
                        Incident.service.in_(dependents(ctx, change.service)),
                        Incident.status != Status.RESOLVED,
                        Incident.drill.is_(False),
                    )
                )
            ).all()
        )
    frozen = received.freeze
    flag = _flag_text(change, frozen) if frozen else None
    for incident in concerned:
        await _note(
            ctx,
            incident,
            "change.during_freeze" if flag else "change.recorded",
            flag or f"Change recorded: {describe(change)}",
            change,
        )
        await incident_changes.sync(ctx, await incident_changes.load(ctx, incident_id=incident.id))
    if frozen is None or frozen.incident_id is None:
        return
    owner = await incident_changes.load(ctx, incident_id=frozen.incident_id)
    if owner.id not in {i.id for i in concerned}:
        await _note(ctx, owner, "change.during_freeze", flag or "", change)
    await incident_changes.tell(ctx, owner, f":warning: {escape(flag)}")


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


def _flag_text(change: Change, frozen: Freeze) -> str:
    return (
        f"Change during a freeze: {describe(change)} arrived while {frozen.service} is frozen "
        f"since {frozen.started_at:%H:%M} UTC ({frozen.reason})."
    )


async def _note(ctx: Context, incident: Incident, kind: str, text: str, change: Change) -> None:
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await timeline.record(
            session=session,
            incident_id=incident.id,
            kind=kind,
            text=text,
            actor=change.author or "change feed",
            link=change.link,
            now=now,
            at=max(change.at, incident.created_at) if kind == "change.recorded" else now,
            data={"change": change.id, "event_id": change.event_id},
            dedup_key=f"change:{change.id}",
        )


# --- rollouts --------------------------------------------------------------------------------


async def end_rollout(ctx: Context, *, incident_id: int, change_id: int, by: str) -> Change:
    """Abort a canary or stop a shadow: recorded as the matching change event, once.

    The reference Deployment API has no canary or shadow endpoint, so Firebreak cannot stop
    the rollout itself; it records who ended it and when, and says so in the channel.
    """
    incident = await incident_changes.load(ctx, incident_id=incident_id)
    await require_may_change(ctx, incident, by)
    async with ctx.reading() as session:
        started = await service.get(session=session, change_id=change_id)
    if started is None or started.kind not in ENDING:
        raise NotFound("That is not a canary or shadow Firebreak knows of.")
    end = ENDING[ChangeKind(started.kind)]
    received = await receive(
        ctx,
        event=ChangeEvent(
            id=f"firebreak:{end}:{started.event_id}"[:200],
            kind=end,
            service=started.service,
            version=started.version,
            author=by,
        ),
        drill_incident_id=started.drill_incident_id,
    )
    if not received.created:
        raise Refused(f"The {escape(started.ref)} was already ended.")
    what = "canary aborted" if end is ChangeKind.CANARY_ABORT else "shadow stopped"
    said = (
        f":octagonal_sign: {escape(started.service)} {escape(started.version or '')} {what} by "
        f"{mention(by)} (recorded; the deployment API has no canary endpoint, so end it in your "
        "rollout tool too)"
    )
    # The timeline keeps plain text (bot.incidents.timeline): what was said, unescaped.
    await _note(ctx, incident, f"change.{end}", unescape(said), received.change)
    await incident_changes.tell(ctx, incident, said)
    await incident_changes.sync(ctx, await incident_changes.load(ctx, incident_id=incident_id))
    return received.change
