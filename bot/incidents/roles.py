"""Incident command roles: the commander decides, the scribe records; command changes hands
only when the new commander accepts."""

from __future__ import annotations

from enum import StrEnum

from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.permissions import SYSTEM
from bot.incidents.ports import ChatError, HandoffOffer, IncidentContext
from bot.incidents.reading import load
from bot.incidents.unit_of_work import UnitOfWork, change, tell
from bot.mrkdwn import channel_link, escape
from bot.people import mention


class Role(StrEnum):
    COMMANDER = "commander"
    SCRIBE = "scribe"


async def assign(
    ctx: IncidentContext, *, incident_id: int, role: Role, user: str, by: str
) -> Incident:
    """Give `user` a role. Command that someone already holds moves only by handoff."""
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        current = incident.commander if role is Role.COMMANDER else incident.scribe
        if current == user:
            raise Refused(f"{mention(user)} is already the {role} of {incident.ref}.")
        if role is Role.COMMANDER:
            if current and incident.acknowledged_at and by not in ctx.config.permissions.admins:
                raise Refused(
                    f"{incident.ref} already has a commander, {mention(current)}. Command changes "
                    f"hands by `/incident handoff @someone`, which they accept."
                )
            await _make_commander(c, user)
        else:
            incident.scribe = user
            who = (
                f"{mention(user)} is scribing"
                if by == user
                else f"{mention(by)} made {mention(user)} scribe"
            )
            await c.note("role.scribe", who, user=user)
    emoji = ":star:" if role is Role.COMMANDER else ":writing_hand:"
    await tell(ctx, incident, f"{emoji} {mention(user)} is now the {role} of {incident.ref}.")
    return incident


async def acknowledge(ctx: IncidentContext, *, incident_id: int, user: str) -> Incident:
    """The assigned (on-call) commander says they are on it."""
    async with change(ctx, incident_id=incident_id, by=user, check=False) as c:
        incident = c.incident
        if incident.commander != user:
            raise Refused(
                f"Only the commander, {mention(incident.commander)}, acknowledges "
                f"{incident.ref}. To take command: `/incident commander me`."
            )
        if incident.acknowledged_at is not None:
            raise Refused(f"You already acknowledged {incident.ref}.")
        incident.acknowledged_at = c.now
        await c.note("incident.acknowledged", f"{mention(user)} acknowledged")
    await tell(
        ctx, incident, f":saluting_face: {mention(user)} acknowledged and commands {incident.ref}."
    )
    return incident


async def assign_on_call(ctx: IncidentContext, *, incident_id: int) -> str | None:
    """An alert opened the incident: its service's on-call person commands it, and is told so."""
    incident = await load(ctx, incident_id=incident_id)
    service = ctx.config.service(incident.service)
    if incident.commander or service is None or service.oncall is None:
        return None
    user = service.oncall.on_call(ctx.clock())
    async with change(ctx, incident_id=incident_id, by=SYSTEM) as c:
        c.incident.commander = user
        await c.note(
            "role.commander",
            f"{mention(user)} is on call for {incident.service}: assigned as commander",
            user=user,
            on_call=True,
        )
    if incident.channel_id:
        try:
            await ctx.chat.invite(channel_id=incident.channel_id, user_ids=[user])
        except ChatError as exc:
            if exc.code != "already_in_channel":
                raise
    where = channel_link(incident.channel_id) if incident.channel_id else "its channel"
    await ctx.chat.direct_message(
        user=user,
        text=(
            f":rotating_light: You are on call for {escape(incident.service)}: you command "
            f"{incident.ref} ({escape(incident.severity)}) {escape(incident.title)} in {where}. "
            "Acknowledge with the button there or `/incident ack` in the channel."
        ),
    )
    return user


async def offer_handoff(ctx: IncidentContext, *, incident_id: int, to: str, by: str) -> Incident:
    async with change(ctx, incident_id=incident_id, by=by) as c:
        incident = c.incident
        if incident.commander == to:
            raise Refused(f"{mention(to)} already commands {incident.ref}.")
        if (
            incident.commander
            and by != incident.commander
            and by not in ctx.config.permissions.admins
        ):
            raise Refused(
                f"Only the commander, {mention(incident.commander)}, can hand over command."
            )
        incident.handoff_to = to
        await c.note("handoff.offered", f"{mention(by)} offered command to {mention(to)}", to=to)
    assert incident.channel_id is not None
    await ctx.chat.offer_handoff(
        channel=incident.channel_id,
        offer=HandoffOffer(
            incident_id=incident.id, ref=incident.ref, from_user=incident.commander, to_user=to
        ),
    )
    return incident


async def accept_handoff(ctx: IncidentContext, *, incident_id: int, user: str) -> Incident:
    async with change(ctx, incident_id=incident_id, by=user, check=False) as c:
        incident = c.incident
        _require_offered_to(incident, user)
        previous = incident.commander
        await _make_commander(c, user, handed_by=previous)
    took_over = f", taking over from {mention(previous)}" if previous else ""
    await tell(
        ctx, incident, f":handshake: {mention(user)} now commands {incident.ref}{took_over}."
    )
    return incident


async def decline_handoff(ctx: IncidentContext, *, incident_id: int, user: str) -> Incident:
    async with change(ctx, incident_id=incident_id, by=user, check=False) as c:
        incident = c.incident
        _require_offered_to(incident, user)
        incident.handoff_to = None
        await c.note("handoff.declined", f"{mention(user)} declined command")
    await tell(
        ctx,
        incident,
        f"{mention(user)} declined command of {incident.ref}; "
        f"{mention(incident.commander)} still commands.",
    )
    return incident


def _require_offered_to(incident: Incident, user: str) -> None:
    if incident.handoff_to is None:
        raise Refused(f"No handoff of {incident.ref} is waiting.")
    if incident.handoff_to != user:
        raise Refused(
            f"This handoff is offered to {mention(incident.handoff_to)}; "
            "only they can accept or decline it."
        )


async def _make_commander(c: UnitOfWork, user: str, *, handed_by: str | None = None) -> None:
    incident = c.incident
    incident.commander = user
    incident.handoff_to = None
    # A person choosing the commander means someone is on it; the bot's on-call pick is not.
    if incident.acknowledged_at is None:
        incident.acknowledged_at = c.now
    if handed_by:
        text = f"{mention(handed_by)} handed command to {mention(user)}"
        await c.note("role.commander", text, user=user, handed_by=handed_by)
        return
    if c.by == user:
        text = f"{mention(user)} took command"
    else:
        text = f"{mention(c.by)} made {mention(user)} commander"
    await c.note("role.commander", text, user=user)
