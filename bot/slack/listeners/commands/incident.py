"""`/incident <subcommand> …`: parse, call a flow, render. Ack within Slack's 3 seconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.incidents import flows, service
from bot.slack.blocks.incident_list import incident_list
from bot.slack.deps import Deps, deps_of

COMMAND = "/incident"
MAX_TITLE = 300

Ack = Callable[..., Awaitable[None]]
Handler = Callable[[Ack, str, dict[str, Any], Deps], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    usage: str
    summary: str
    run: Handler


async def incident_command(ack: Ack, command: dict[str, Any], context: Any) -> None:
    name, _, args = (command.get("text") or "").strip().partition(" ")
    sub = SUBCOMMANDS.get(name.lower() or "help")
    if sub is None:
        await ack(response_type="ephemeral", text=f"I don't know `{name}`.\n\n{help_text()}")
        return
    await sub.run(ack, args.strip(), command, deps_of(context))


async def _help(ack: Ack, args: str, command: dict[str, Any], deps: Deps) -> None:
    await ack(response_type="ephemeral", text=help_text())


async def _list(ack: Ack, args: str, command: dict[str, Any], deps: Deps) -> None:
    async with deps.ctx.sessions() as session:
        rows = await service.list_with_alert_counts(session=session, open_only=True)
    text, blocks = incident_list([incident for incident, _ in rows], now=deps.ctx.clock())
    await ack(response_type="ephemeral", text=text, blocks=blocks)


async def _declare(ack: Ack, args: str, command: dict[str, Any], deps: Deps) -> None:
    title = " ".join(args.split())
    if not title:
        await ack(
            response_type="ephemeral",
            text=f"Give the incident a title: `{SUBCOMMANDS['declare'].usage}`",
        )
        return
    if len(title) > MAX_TITLE:
        await ack(
            response_type="ephemeral",
            text=f"That title has {len(title)} characters; {MAX_TITLE} at most.",
        )
        return
    incident = await flows.declare(ctx=deps.ctx, title=title, declared_by=command["user_id"])
    await ack(
        response_type="ephemeral",
        text=f"{incident.ref} declared: {title}. Opening its channel and inviting you.",
    )
    deps.background.spawn(
        flows.open_in_chat(ctx=deps.ctx, incident_id=incident.id), name=f"{incident.ref}-open"
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "declare": Subcommand("/incident declare <title>", "open an incident by hand", _declare),
    "list": Subcommand("/incident list", "show open incidents", _list),
    "help": Subcommand("/incident help", "this list", _help),
}


def help_text() -> str:
    lines = [f"• `{sub.usage}` — {sub.summary}" for sub in SUBCOMMANDS.values()]
    return "*Firebreak* — `/incident` commands:\n" + "\n".join(lines)
