"""What a subcommand handler receives, and the table every subcommand is registered in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.incidents.errors import Refused
from bot.incidents.models import Incident
from bot.slack.deps import Deps
from bot.slack.listeners.reply import Respond

Ack = Callable[..., Awaitable[None]]


@dataclass
class Invocation:
    send_ack: Ack
    respond: Respond
    client: Any  # slack_sdk AsyncWebClient: for what is pure Slack UI (opening a modal)
    deps: Deps
    user: str
    channel_id: str
    trigger_id: str
    name: str  # the subcommand
    args: str  # what follows it
    incident: Incident | None  # the incident whose channel the command was run in
    acked: bool = False

    async def ack(self, **reply: Any) -> None:
        """Slack wants this within 3 seconds; later words go through respond()."""
        self.acked = True
        await self.send_ack(**reply)

    async def tell(self, text: str, **extra: Any) -> None:
        """A private answer: in the ack when it is still to be sent, else through respond()."""
        if self.acked:
            await self.respond(
                response_type="ephemeral", replace_original=False, text=text, **extra
            )
        else:
            await self.ack(response_type="ephemeral", text=text, **extra)

    def here(self) -> Incident:
        if self.incident is None:
            raise Refused(
                f"Run `/incident {self.name}` in an incident's channel (like #inc-7-…). "
                "`/incident list` shows the open ones."
            )
        return self.incident


Handler = Callable[[Invocation], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    usage: str
    summary: str
    run: Handler
