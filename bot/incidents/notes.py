"""What responders put on the timeline: notes, commands, and pinned or flagged messages."""

from __future__ import annotations

from datetime import date

from sqlalchemy.exc import IntegrityError

from bot.incidents import service, timeline
from bot.incidents.errors import NotFound, Refused
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext
from bot.incidents.unit_of_work import change
from bot.people import mention

MAX_NOTE = 3000


async def add_note(ctx: IncidentContext, *, incident_id: int, text: str, by: str) -> Incident:
    async with change(ctx, incident_id=incident_id, by=by) as c:
        await c.note("note", text[:MAX_NOTE])
    return c.incident


ACTION_TYPES = ("mitigate", "prevent", "process")


async def add_action(
    ctx: IncidentContext,
    *,
    incident_id: int,
    text: str,
    by: str,
    owner: str | None = None,
    action_type: str | None = None,
    due: date | None = None,
) -> Incident:
    """An action item for the postmortem, collected while it is fresh."""
    if action_type is not None and action_type not in ACTION_TYPES:
        raise Refused(f"An action item is one of: {', '.join(ACTION_TYPES)}.")
    async with change(ctx, incident_id=incident_id, by=by) as c:
        await c.note(
            "action",
            text[:MAX_NOTE],
            owner=owner,
            action_type=action_type,
            due=due.isoformat() if due else None,
        )
    return c.incident


async def record_command(ctx: IncidentContext, *, incident_id: int, by: str, command: str) -> None:
    """Every command run in an incident channel is on its timeline, whatever it changed."""
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        await timeline.record(
            session=session,
            incident_id=incident_id,
            kind="command",
            text=f"{mention(by)} ran `{command[:MAX_NOTE]}`",
            actor=by,
            now=now,
        )


async def record_message(
    ctx: IncidentContext, *, channel_id: str, ts: str, flagged_by: str, how: str
) -> bool:
    """A message pinned or flagged in an incident channel goes on the timeline once, with its own
    time, author and link, however often it is flagged or the event is redelivered."""
    async with ctx.reading() as session:
        incident = await service.get_by_channel(session=session, channel_id=channel_id)
    if incident is None:
        return False
    message = await ctx.chat.message(channel_id=channel_id, ts=ts)
    if message is None:
        raise NotFound(f"The message {ts} is no longer in the channel.")
    now = ctx.clock()
    try:
        async with ctx.sessions.begin() as session:
            entry = await timeline.record(
                session=session,
                incident_id=incident.id,
                kind="message",
                text=message.text[:MAX_NOTE],
                actor=message.author,
                link=message.permalink,
                at=message.at,
                now=now,
                data={"flagged_by": flagged_by, "how": how, "ts": ts},
                dedup_key=f"message:{channel_id}:{ts}",
            )
    except IntegrityError:
        return False  # a redelivery of the same event, handled at the same moment, recorded it
    return entry is not None
