"""Chat and reminders follow the incident's state: after every change, and on the budget clock's
tick, the reminders are planned again and the channel's topic, pinned budget and both copies of
the announcement (the channel's and the broadcast's) are brought up to date."""

from __future__ import annotations

from bot.incidents import reminders, service
from bot.incidents.budget_policy import announce_thresholds
from bot.incidents.cards import card_for
from bot.incidents.ledger import ServiceBudget, budget_of
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext, MessageRef
from bot.incidents.reading import load
from bot.incidents.topic import topic_for


async def sync(ctx: IncidentContext, incident: Incident) -> Incident:
    """Reminders, channel topic and the announcement follow the incident's state; the
    incident as this sync read it.

    Changes may finish in any order; each sync reads the incident afresh, one at a time, so
    the last one leaves the channel showing the newest state. A ChatError here leaves the
    change saved; callers tell the responder Slack refused.
    """
    return await sync_of(ctx, incident_id=incident.id)


async def sync_of(ctx: IncidentContext, *, incident_id: int) -> Incident:
    """`sync` for the incident of this id (NotFound when there is none)."""
    async with ctx.locks(("sync", incident_id)):
        incident = await load(ctx, incident_id=incident_id)
        await reminders.plan(ctx, incident)
        if incident.channel_id is None:
            return incident  # open_in_chat sets them up when the channel exists
        budget = await budget_of(ctx, service=incident.service, incident_id=incident.id)
        if budget is not None and incident.is_open:
            await _show_budget(ctx, incident, budget)
            if not incident.drill:  # a drill consumes nothing; the policy is not its to invoke
                await announce_thresholds(ctx, incident, budget)
        # The topic changes only with what it shows (severity, status, roles): each change is a
        # message in the channel. The budget countdown is the pinned budget message's.
        topic = topic_for(incident)
        if topic != incident.channel_topic:
            await ctx.chat.set_topic(channel_id=incident.channel_id, topic=topic)
            await ctx.write(
                lambda session: service.save_columns(
                    session=session, incident_id=incident.id, values={"channel_topic": topic}
                )
            )
            incident.channel_topic = topic  # the copy returned, as stored
        await _refresh_cards(ctx, incident)
    return incident


async def _refresh_cards(ctx: IncidentContext, incident: Incident) -> None:
    """Every copy of the card (the channel's, the broadcast's) is one rendering of the current
    state: buttons no longer valid (claiming command once acknowledged…) go with it."""
    copies = [
        MessageRef(channel_id, ts)
        for channel_id, ts in (
            (incident.channel_id, incident.announcement_ts),
            (incident.broadcast_channel_id, incident.broadcast_ts),
        )
        if channel_id and ts
    ]
    if not copies:
        return
    card = await card_for(ctx, incident)
    for message in copies:
        await ctx.chat.refresh_announcement(message=message, card=card)


async def _show_budget(ctx: IncidentContext, incident: Incident, budget: ServiceBudget) -> None:
    """The pinned budget message of the channel, posted once and then updated in place."""
    assert incident.channel_id is not None
    known = MessageRef(incident.channel_id, incident.budget_ts) if incident.budget_ts else None
    shown = await ctx.chat.show_budget(
        channel=incident.channel_id, ref=incident.ref, budget=budget, message=known
    )
    if known is None:
        await ctx.write(
            lambda session: service.save_columns(
                session=session, incident_id=incident.id, values={"budget_ts": shown.ts}
            )
        )
