"""Who may change an incident (configurable; by default the members of its channel)."""

from __future__ import annotations

from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext
from bot.mrkdwn import escape

SYSTEM = "firebreak"  # the bot itself: timers and alert intake


async def require_may_change(ctx: IncidentContext, incident: Incident, user: str) -> None:
    rules = ctx.config.permissions
    if user == SYSTEM or user in rules.admins or rules.change == "anyone":
        return
    if incident.channel_id is None:
        return  # nothing to be a member of yet: the channel is still being opened
    if user in await ctx.chat.members(channel_id=incident.channel_id):
        return
    raise Refused(
        f"Only members of #{escape(incident.channel_name)} can change {incident.ref}: join it "
        "first."
    )
