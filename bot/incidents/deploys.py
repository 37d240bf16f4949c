"""What the change feed means for open incidents: a new change on the timeline of those it
concerns (flagged when it arrives during a freeze), and a canary or shadow ended from one."""

from __future__ import annotations

from sqlalchemy import select

from bot.changes import service as changes_service
from bot.changes.events import ChangeRecorded
from bot.changes.feed import dependents
from bot.changes.flows import describe, record
from bot.changes.models import Change, Freeze
from bot.changes.schemas import ROLLOUTS, ChangeEvent, ChangeKind
from bot.incidents import timeline
from bot.incidents.errors import NotFound, Refused
from bot.incidents.models import Incident, Status
from bot.incidents.permissions import require_may_change
from bot.incidents.ports import IncidentContext
from bot.incidents.reading import load
from bot.incidents.sync import sync
from bot.incidents.unit_of_work import tell
from bot.mrkdwn import escape, unescape
from bot.people import mention

# What ends a rollout, when a responder clicks its button.
ENDING = ROLLOUTS


async def change_recorded(ctx: IncidentContext, event: ChangeRecorded) -> None:
    """After the webhook is answered: each open incident the change concerns gets it on its
    timeline and in its announcement; a change made during a freeze is flagged in the
    freeze's incident channel."""
    async with ctx.reading() as session:
        change = await changes_service.get(session=session, change_id=event.change_id)
        frozen = (
            await changes_service.get_freeze(session=session, freeze_id=event.freeze_id)
            if event.freeze_id is not None
            else None
        )
        if change is None:
            return
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
    flag = _flag_text(change, frozen) if frozen else None
    for incident in concerned:
        await _note(
            ctx,
            incident,
            "change.during_freeze" if flag else "change.recorded",
            flag or f"Change recorded: {describe(change)}",
            change,
        )
        await sync(ctx, await load(ctx, incident_id=incident.id))
    if frozen is None or frozen.incident_id is None:
        return
    owner = await load(ctx, incident_id=frozen.incident_id)
    if owner.id not in {i.id for i in concerned}:
        await _note(ctx, owner, "change.during_freeze", flag or "", change)
    await tell(ctx, owner, f":warning: {escape(flag)}")


def _flag_text(change: Change, frozen: Freeze) -> str:
    return (
        f"Change during a freeze: {describe(change)} arrived while {frozen.service} is frozen "
        f"since {frozen.started_at:%H:%M} UTC ({frozen.reason})."
    )


async def _note(
    ctx: IncidentContext, incident: Incident, kind: str, text: str, change: Change
) -> None:
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


async def end_rollout(ctx: IncidentContext, *, incident_id: int, change_id: int, by: str) -> Change:
    """Abort a canary or stop a shadow: recorded as the matching change event, once.

    The reference Deployment API has no canary or shadow endpoint, so Firebreak cannot stop
    the rollout itself; it records who ended it and when, and says so in the channel.
    """
    incident = await load(ctx, incident_id=incident_id)
    await require_may_change(ctx, incident, by)
    async with ctx.reading() as session:
        started = await changes_service.get(session=session, change_id=change_id)
    if started is None or started.kind not in ENDING:
        raise NotFound("That is not a canary or shadow Firebreak knows of.")
    end = ENDING[ChangeKind(started.kind)]
    received = await record(
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
    await tell(ctx, incident, said)
    await sync(ctx, await load(ctx, incident_id=incident_id))
    return received.change
