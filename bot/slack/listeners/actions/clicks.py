"""One shape for every button listener: ack, read who clicked which value, run the flow after
the ack, answer privately if it was refused, and show the flow's reply if it has one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.incidents.errors import Refused
from bot.slack.deps import Deps, deps_of
from bot.slack.listeners.commands.base import Ack
from bot.slack.listeners.reply import Respond, reporting

# (deps, user who clicked, the button's value) → what to respond with, if anything
Flow = Callable[[Deps, str, str], Awaitable[dict[str, Any] | None]]
Listener = Callable[..., Awaitable[None]]


def on_click(what: str, flow: Flow) -> Listener:
    async def listener(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
    ) -> None:
        await ack()
        async with reporting(respond, what=what):
            reply = await flow(deps_of(context), body["user"]["id"], str(action.get("value") or ""))
            if reply:
                await respond(**reply)

    return listener


def number(value: str, *, of: str = "an incident") -> int:
    """The number a button's value starts with ('7' or '7:…')."""
    head = value.partition(":")[0]
    if not head.isdigit():
        raise Refused(f"This button does not belong to {of}.")
    return int(head)
