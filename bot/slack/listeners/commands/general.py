"""`/incident declare`, `list` and `help`."""

from __future__ import annotations

from bot.incidents import flows, service
from bot.mrkdwn import escape
from bot.slack.blocks.declare import declare_modal
from bot.slack.blocks.incident_list import incident_list
from bot.slack.listeners.commands.base import Invocation, Subcommand

MAX_TITLE = 300


async def declare(inv: Invocation) -> None:
    title = " ".join(inv.args.split())
    if not title:
        # No title: ask for the details in a modal (the trigger_id lasts 3 seconds: open it now).
        await inv.ack()
        await inv.client.views_open(
            trigger_id=inv.trigger_id,
            view=declare_modal(inv.deps.ctx.config, channel=inv.channel_id),
        )
        return
    if len(title) > MAX_TITLE:
        await inv.tell(f"That title has {len(title)} characters; {MAX_TITLE} at most.")
        return
    incident = await flows.declare(ctx=inv.deps.ctx, title=title, declared_by=inv.user)
    await inv.tell(
        f"{incident.ref} declared: {escape(title)}. Opening its channel and inviting you."
    )
    # After the ack Bolt lets the listener run on; a Slack refusal reaches the user (respond).
    await flows.open_in_chat(ctx=inv.deps.ctx, incident_id=incident.id)


async def list_open(inv: Invocation) -> None:
    async with inv.deps.ctx.reading() as session:
        rows = await service.list_with_alert_counts(session=session, open_only=True)
    text, blocks = incident_list([incident for incident, _ in rows], now=inv.deps.ctx.clock())
    await inv.tell(text, blocks=blocks)


SUBCOMMANDS = {
    "declare": Subcommand(
        "/incident declare [title]", "open an incident (no title: a form)", declare
    ),
    "list": Subcommand("/incident list", "show the open incidents", list_open),
}
