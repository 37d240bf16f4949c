"""Incident flows: declaring one by hand; opening it in chat (channel, invites, announcement)."""

from __future__ import annotations

import logging
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents import roles, service, timeline
from bot.incidents.cards import card_for
from bot.incidents.errors import NotFound
from bot.incidents.events import InChat, IncidentAnnounced
from bot.incidents.models import Incident
from bot.incidents.naming import channel_names
from bot.incidents.ports import (
    ChannelNameTaken,
    ChannelRef,
    ChatError,
    IncidentCard,
    IncidentContext,
)
from bot.incidents.reading import load
from bot.incidents.recording import chat_done
from bot.incidents.sync import sync, sync_of
from bot.incidents.unit_of_work import tell
from bot.logs import incident_logs
from bot.mrkdwn import escape
from bot.people import mention
from bot.severity import Severity

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 8


async def declare(
    *,
    ctx: IncidentContext,
    title: str,
    declared_by: str,
    service_name: str | None = None,
    severity: Severity | None = None,
    description: str | None = None,
) -> Incident:
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        svc = ctx.config.service(service_name)
        incident = service.create(
            session=session,
            title=title,
            severity=severity or ctx.config.declared_severity,
            source="slack",
            service=service_name,
            declared_by=declared_by,
            description=description,
            runbook_url=svc.runbook_url if svc else None,
            now=now,
        )
        await session.flush()
        await timeline.record(
            session=session,
            incident_id=incident.id,
            kind="incident.declared",
            text=f"{incident.ref} declared: {title}",
            actor=declared_by,
            now=now,
        )
    return incident


async def open_in_chat(*, ctx: IncidentContext, incident_id: int) -> None:
    """Create the incident's channel, invite its people and announce it; safe to run again.

    Every step is saved as it completes, so a run cut short (Slack down, a restart) resumes
    where it stopped instead of creating a second channel or announcing twice.
    """
    with incident_logs(incident_id):
        await _open_in_chat(ctx, incident_id)


async def _open_in_chat(ctx: IncidentContext, incident_id: int) -> Incident | None:
    """The incident as read before its set-up was finished (None: there is no such incident)."""
    async with ctx.locks(incident_id):
        async with ctx.reading() as session:
            incident = await service.get(session=session, incident_id=incident_id)
        if incident is None:
            return None
        await _set_up(ctx, incident)
    await ctx.events.publish(InChat(incident_id))  # not reached when a step failed
    return incident


async def _set_up(ctx: IncidentContext, incident: Incident) -> None:
    incident_id = incident.id
    broadcast = ctx.config.broadcast_channel
    # A channel without its announcements: a set-up that a crash cut short somewhere after
    # the channel was saved, so invites, topic and reminders may be missing too.
    unfinished = incident.announcement_ts is None or bool(
        broadcast and incident.broadcast_ts is None
    )
    if incident.channel_id is None:
        channel = await _create_channel(ctx, incident)
        await ctx.write(
            lambda session: _note(
                ctx,
                session,
                incident,
                "channel.created",
                f"Channel #{channel.name} created",
                channel_id=channel.id,
                channel_name=channel.name,
            )
        )
    if unfinished:
        await _invite(ctx, incident)  # inviting again is harmless; noted once
        if incident.source != "slack":
            await roles.assign_on_call(ctx, incident_id=incident_id)  # once: it checks
        incident = await sync(ctx, incident)  # topic and reminders; as it read the incident
    card: IncidentCard | None = None  # both copies show one rendering of one state
    if incident.announcement_ts is None:
        card = await card_for(ctx, incident)
        assert incident.channel_id is not None
        posted = await ctx.chat.announce(channel=incident.channel_id, card=card)
        await ctx.write(lambda session: _save(session, incident, announcement_ts=posted.ts))
        # The model card is read after this, in the background: it never holds this up.
        await ctx.events.publish(IncidentAnnounced(incident_id))
    if broadcast and incident.broadcast_ts is None:
        card = card or await card_for(ctx, incident)
        posted = await ctx.chat.announce(channel=broadcast, card=card)
        await ctx.write(
            lambda session: _note(
                ctx,
                session,
                incident,
                "incident.announced",
                f"Announced in {broadcast}",
                broadcast_ts=posted.ts,
                broadcast_channel_id=posted.channel_id,
            )
        )


async def alerts_changed(*, ctx: IncidentContext, incident_id: int, all_resolved: bool) -> None:
    """New or resolved alerts: finish any chat set-up, then show the new state in the channel."""
    with incident_logs(incident_id):
        # Its set-up ran first (the same follow-up), so sync's read of the incident, which a
        # storm makes for each change, mostly shows it finished: no other read to find out.
        try:
            incident = await sync_of(ctx, incident_id=incident_id)
        except NotFound:
            return
        if chat_done(ctx, incident.channel_id, incident.announcement_ts, incident.broadcast_ts):
            await ctx.events.publish(InChat(incident_id))  # as a set-up run finding it done
        else:  # a set-up that failed, finished now; then the new state shown
            if await _open_in_chat(ctx, incident_id) is None:
                return
            await sync_of(ctx, incident_id=incident_id)
        if all_resolved and not await _firing(ctx, incident_id):
            # Not when an alert fired again before this ran (merged follow-ups, a slow Slack):
            # the card now shows it firing, and the timeline keeps both moments. Read again:
            # the channel may be this run's.
            await tell(
                ctx,
                await load(ctx, incident_id=incident_id),
                ":white_check_mark: All alerts of this incident have resolved. "
                "It stays open until its commander resolves it.",
            )


async def source_noted(*, ctx: IncidentContext, incident_id: int, text: str) -> None:
    """Say in the channel what an alert source said (PagerDuty's acknowledgement, a note…)."""
    with incident_logs(incident_id):
        incident = await load(ctx, incident_id=incident_id)
        await tell(ctx, incident, f":memo: {escape(text)}")


async def _firing(ctx: IncidentContext, incident_id: int) -> int:
    async with ctx.reading() as session:
        return await service.firing_count(session=session, incident_id=incident_id)


async def _create_channel(ctx: IncidentContext, incident: Incident) -> ChannelRef:
    names = channel_names(incident.id, incident.title, drill=incident.drill)
    for name in islice(names, MAX_NAME_ATTEMPTS):
        try:
            return await ctx.chat.create_channel(name=name)
        except ChannelNameTaken:
            log.info("channel name taken, trying another", extra={"channel": name})
    raise ChatError("name_taken", f"no free channel name after {MAX_NAME_ATTEMPTS} tries")


async def _invite(ctx: IncidentContext, incident: Incident) -> None:
    svc = ctx.config.service(incident.service)
    people = list(
        dict.fromkeys([*(svc.owners if svc else []), *filter(None, [incident.declared_by])])
    )
    if not people or incident.channel_id is None:
        return
    failed: dict[str, str] = {}
    try:
        await ctx.chat.invite(channel_id=incident.channel_id, user_ids=people)
    except ChatError:
        # One bad invitee fails the whole call in Slack: retry one by one to invite the rest.
        for person in people:
            try:
                await ctx.chat.invite(channel_id=incident.channel_id, user_ids=[person])
            except ChatError as exc:
                if exc.code != "already_in_channel":
                    failed[person] = exc.code
    invited = [mention(p) for p in people if p not in failed]
    parts = [f"Invited {', '.join(invited)}"] if invited else []
    parts += [f"could not invite {mention(p)} ({code})" for p, code in failed.items()]
    await ctx.write(
        lambda session: _note(
            ctx,
            session,
            incident,
            "people.invited",
            "; ".join(parts),
            dedup_key="invited",
            data={"invited": people},  # whom the text mentions (bot.incidents.timeline)
        )
    )


async def _save(session: AsyncSession, incident: Incident, **columns: Any) -> None:
    """Save what a set-up step made, by id (no load of the incident first), and keep
    `incident`, as this run knows it, the same."""
    await service.save_columns(session=session, incident_id=incident.id, values=columns)
    for name, value in columns.items():
        setattr(incident, name, value)


async def _note(
    ctx: IncidentContext,
    session: AsyncSession,
    incident: Incident,
    kind: str,
    text: str,
    dedup_key: str | None = None,
    data: dict[str, Any] | None = None,
    **columns: Any,
) -> None:
    """Put what a step did on the timeline, and save `columns` with the incident's new
    updated_at."""
    now = ctx.clock()
    await _save(session, incident, updated_at=now, **columns)
    await timeline.record(
        session=session,
        incident_id=incident.id,
        kind=kind,
        text=text,
        actor="firebreak",
        now=now,
        dedup_key=dedup_key,
        data=data,
    )
