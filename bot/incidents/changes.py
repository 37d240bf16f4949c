"""One way to change an incident: check who asks, change it in one transaction, record it on the
timeline, then bring the channel (topic, announcement) and the reminders up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.budget.ledger import ServiceBudget, budget_of
from bot.context import Context
from bot.incidents import reminders, service, timeline
from bot.incidents.budget_policy import announce_thresholds
from bot.incidents.cards import card_for
from bot.incidents.errors import NotFound
from bot.incidents.models import Incident, format_ref
from bot.incidents.permissions import SYSTEM, require_may_change
from bot.incidents.ports import MessageRef
from bot.incidents.topic import topic_for


@dataclass
class Change:
    session: AsyncSession
    incident: Incident
    by: str
    now: datetime

    async def note(self, kind: str, text: str, **data: Any) -> None:
        self.incident.updated_at = self.now
        await timeline.record(
            session=self.session,
            incident_id=self.incident.id,
            kind=kind,
            text=text,
            actor=self.by,
            now=self.now,
            data=data or None,
        )


@asynccontextmanager
async def change(
    ctx: Context, *, incident_id: int, by: str, check: bool = True
) -> AsyncIterator[Change]:
    """Yields the incident inside a transaction; commits, then syncs chat and reminders.

    The permission check asks the chat platform who is in the channel, so it runs before the
    transaction: no database lock is held across a network call.
    """
    if check and by != SYSTEM:
        await require_may_change(ctx, await load(ctx, incident_id=incident_id), by)
    async with ctx.sessions.begin() as session:
        incident = await service.get(session=session, incident_id=incident_id)
        if incident is None:
            raise NotFound(f"There is no {format_ref(incident_id)}.")
        yield Change(session=session, incident=incident, by=by, now=ctx.clock())
    await sync(ctx, incident)


async def load(ctx: Context, *, incident_id: int) -> Incident:
    async with ctx.reading() as session:
        incident = await service.get(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"There is no {format_ref(incident_id)}.")
    return incident


async def tell(ctx: Context, incident: Incident, text: str) -> None:
    """Say something in the incident's channel, once it has one."""
    if incident.channel_id:
        await ctx.chat.say(channel=incident.channel_id, text=text)


async def sync(ctx: Context, incident: Incident) -> None:
    """Reminders, channel topic and the announcement follow the incident's state.

    Changes may finish in any order; each sync reads the incident afresh, one at a time, so
    the last one leaves the channel showing the newest state. A ChatError here leaves the
    change saved; callers tell the responder Slack refused.
    """
    async with ctx.locks(("sync", incident.id)):
        incident = await load(ctx, incident_id=incident.id)
        await reminders.plan(ctx, incident)
        if incident.channel_id is None:
            return  # open_in_chat sets them up when the channel exists
        budget = await budget_of(ctx, service=incident.service, incident_id=incident.id)
        if budget is not None and incident.is_open:
            await _show_budget(ctx, incident, budget)
            if not incident.drill:  # a drill consumes nothing; the policy is not its to invoke
                await announce_thresholds(ctx, incident, budget)
        topic = topic_for(incident, budget_left=budget.report.remaining if budget else None)
        if topic != incident.channel_topic:
            await ctx.chat.set_topic(channel_id=incident.channel_id, topic=topic)
            async with ctx.sessions.begin() as session:
                stored = await service.get(session=session, incident_id=incident.id)
                if stored is not None:
                    stored.channel_topic = topic
        if incident.announcement_ts:
            await ctx.chat.refresh_announcement(
                message=MessageRef(incident.channel_id, incident.announcement_ts),
                card=await card_for(ctx, incident),
            )


async def _show_budget(ctx: Context, incident: Incident, budget: ServiceBudget) -> None:
    """The pinned budget message of the channel, posted once and then updated in place."""
    assert incident.channel_id is not None
    known = MessageRef(incident.channel_id, incident.budget_ts) if incident.budget_ts else None
    shown = await ctx.chat.show_budget(
        channel=incident.channel_id, ref=incident.ref, budget=budget, message=known
    )
    if known is None:
        async with ctx.sessions.begin() as session:
            stored = await service.get(session=session, incident_id=incident.id)
            if stored is not None:
                stored.budget_ts = shown.ts
