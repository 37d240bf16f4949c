"""`/incident postmortem`: write the blameless draft from what actually happened."""

from __future__ import annotations

from bot.postmortem import flows
from bot.slack.listeners.commands.base import Invocation, Subcommand


async def postmortem(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    await flows.publish(inv.deps.ctx, incident_id=incident.id)


SUBCOMMANDS = {
    "postmortem": Subcommand("/incident postmortem", "write the postmortem draft", postmortem),
}
