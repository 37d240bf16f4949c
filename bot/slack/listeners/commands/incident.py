"""`/incident <subcommand> …`: find the subcommand and the incident, run it, report refusals.

Every command run in an incident's channel goes on that incident's timeline.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.incidents import notes, service
from bot.incidents.errors import Refused
from bot.incidents.ports import ChatError
from bot.logs import incident_logs
from bot.mrkdwn import escape, unescape
from bot.slack.deps import deps_of
from bot.slack.listeners.commands import (
    budget,
    changes,
    general,
    lifecycle,
    playbooks,
    postmortem,
    roles,
    timeline,
)
from bot.slack.listeners.commands.base import Ack, Invocation, Subcommand
from bot.slack.listeners.reply import Respond, slack_refused

COMMAND = "/incident"
log = logging.getLogger(__name__)


async def incident_command(
    ack: Ack, respond: Respond, command: dict[str, Any], client: Any, context: Any
) -> None:
    text = unescape(" ".join((command.get("text") or "").split()))
    name, _, args = text.partition(" ")
    sub = SUBCOMMANDS.get(name.lower() or "help")
    if sub is None:
        await ack(
            response_type="ephemeral", text=f"I don't know `{escape(name)}`.\n\n{help_text()}"
        )
        return
    deps = deps_of(context)
    async with deps.ctx.reading() as session:
        incident = await service.get_by_channel(session=session, channel_id=command["channel_id"])
    inv = Invocation(
        send_ack=ack,
        respond=respond,
        client=client,
        deps=deps,
        user=command["user_id"],
        channel_id=command["channel_id"],
        trigger_id=command.get("trigger_id", ""),
        name=name.lower() or "help",
        args=args,
        incident=incident,
    )
    if incident is None:
        await _run(sub, inv)
        return
    with incident_logs(incident.id):
        # On the timeline at the moment it was given: a playbook it starts may run for minutes.
        await notes.record_command(
            deps.ctx, incident_id=incident.id, by=inv.user, command=f"{COMMAND} {text}"
        )
        await _run(sub, inv)


async def _run(sub: Subcommand, inv: Invocation) -> None:
    try:
        await sub.run(inv)
    except Refused as exc:
        await inv.tell(str(exc))
    except ChatError as exc:
        log.warning("Slack refused a call for %s %s: %s", COMMAND, inv.name, exc.code)
        await inv.tell(slack_refused(exc))


async def _help(inv: Invocation) -> None:
    await inv.tell(help_text())


SUBCOMMANDS: dict[str, Subcommand] = {
    **general.SUBCOMMANDS,
    **roles.SUBCOMMANDS,
    **lifecycle.SUBCOMMANDS,
    **timeline.SUBCOMMANDS,
    **playbooks.SUBCOMMANDS,
    **budget.SUBCOMMANDS,
    **changes.SUBCOMMANDS,
    **postmortem.SUBCOMMANDS,
    "help": Subcommand("/incident help", "this list", _help),
}


def help_text() -> str:
    # Usages show placeholders like <text>: escaped, as in any mrkdwn.
    lines = [f"• `{escape(sub.usage)}` — {escape(sub.summary)}" for sub in SUBCOMMANDS.values()]
    return "*Firebreak* — `/incident` commands:\n" + "\n".join(lines)


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(incident_command)
