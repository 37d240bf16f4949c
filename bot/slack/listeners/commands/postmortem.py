"""`/incident postmortem`: write the blameless draft from what actually happened."""

from __future__ import annotations

from bot.postmortem import flows
from bot.slack.listeners.commands.base import Invocation, Subcommand


async def postmortem(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    path = await flows.write(inv.deps.ctx, incident_id=incident.id)
    await inv.deps.ctx.chat.say(
        channel=inv.channel_id,
        text=f":page_facing_up: Postmortem draft of {incident.ref} written to `{path}` "
        f"(also at `GET /api/incidents/{incident.ref}/postmortem`). It is a draft: fill in the "
        "contributing factors and action items together, blamelessly.",
    )


SUBCOMMANDS = {
    "postmortem": Subcommand("/incident postmortem", "write the postmortem draft", postmortem),
}
