"""`/incident changes`: what changed before this incident, with the roll-back buttons; and
`/incident drill <scenario>` / `drill end`: rehearse an incident, then read its report."""

from __future__ import annotations

from bot.drills import flows as drills
from bot.drills.scenario import names
from bot.incidents.cards import line_of
from bot.incidents.errors import Refused
from bot.incidents.what_changed import what_changed
from bot.mrkdwn import channel_link, escape
from bot.slack.blocks.changes import change_blocks
from bot.slack.listeners.commands.base import Invocation, Subcommand


async def show_changes(inv: Invocation) -> None:
    incident = inv.here()
    if incident.service is None:
        raise Refused(f"{incident.ref} names no service, so no change feed applies to it.")
    ctx = inv.deps.ctx
    found = await what_changed(ctx, incident)
    blocks = change_blocks(
        incident_id=incident.id,
        changes=[line_of(c) for c in found.changes],
        in_progress=[line_of(c) for c in found.in_progress],
        lookback=ctx.config.changes.lookback,
        buttons=incident.is_open,
    )
    await inv.tell(
        f"What changed before {incident.ref}: {len(found.changes)} changes", blocks=blocks
    )


async def drill(inv: Invocation) -> None:
    name = inv.args.strip()
    folder = inv.deps.drills_dir
    if not name:
        known = ", ".join(f"`{escape(n)}`" for n in names(folder)) or escape(
            f"none (add JSON files to {folder})"
        )
        await inv.tell(f"`/incident drill &lt;scenario&gt;` starts a drill. Scenarios: {known}.")
        return
    if name == "end":
        await inv.ack()
        await drills.end(inv.deps.ctx, incident_id=inv.here().id, by=inv.user)
        return
    await inv.tell(
        f":performing_arts: Starting the DRILL `{escape(name)}`: a `drill-inc-…` channel opens."
    )
    incident = await drills.start(
        inv.deps.ctx, drills=inv.deps.runner.drills, folder=folder, name=name, by=inv.user
    )
    where = channel_link(incident.channel_id) if incident.channel_id else "its channel"
    await inv.tell(f"DRILL {incident.ref} is open in {where}.")


SUBCOMMANDS = {
    "changes": Subcommand(
        "/incident changes",
        "what changed before this incident, with buttons to roll a change back",
        show_changes,
    ),
    "drill": Subcommand(
        "/incident drill <scenario>",
        "rehearse: replay a stored scenario as a DRILL incident (recording target only); "
        "`/incident drill end` resolves it with a report",
        drill,
    ),
}
