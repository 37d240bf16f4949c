"""`/incident note <text>` and `/incident timeline`."""

from __future__ import annotations

from bot.incidents import notes, service
from bot.incidents.errors import Refused
from bot.slack.blocks.timeline import timeline_blocks
from bot.slack.listeners.commands.base import Invocation, Subcommand


async def note(inv: Invocation) -> None:
    text = inv.args.strip()
    if not text:
        raise Refused("Say what to note: `/incident note <text>`.")
    incident = inv.here()
    await inv.ack()
    await notes.add_note(inv.deps.ctx, incident_id=incident.id, text=text, by=inv.user)
    await inv.tell(":pencil: Noted on the timeline.")


async def show(inv: Invocation) -> None:
    async with inv.deps.ctx.sessions() as session:
        full = await service.get(session=session, incident_id=inv.here().id, full=True)
    assert full is not None
    text, blocks = timeline_blocks(full)
    await inv.tell(text, blocks=blocks)


SUBCOMMANDS = {
    "note": Subcommand("/incident note <text>", "add a line to the timeline", note),
    "timeline": Subcommand("/incident timeline", "show the timeline", show),
}
