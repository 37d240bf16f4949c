"""Button listeners: ack, read who clicked which incident's button, call the flow.

Refusals (the wrong person accepting a handoff, a role already taken) go back privately.
"""

from __future__ import annotations

from typing import Any

from bot.durations import format_duration
from bot.incidents import lifecycle, roles
from bot.incidents.errors import Refused
from bot.slack.blocks.messages import snooze_choice
from bot.slack.deps import deps_of
from bot.slack.listeners.commands.base import Ack
from bot.slack.listeners.reply import Respond, reporting


def _clicked(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str]:
    return body["user"]["id"], str(action.get("value") or "")


def _incident_id(value: str) -> int:
    number = value.partition(":")[0]
    if not number.isdigit():
        raise Refused("This button does not belong to an incident.")
    return int(number)


async def claim_commander(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="taking command"):
        await roles.assign(
            deps_of(context).ctx,
            incident_id=_incident_id(value),
            role=roles.Role.COMMANDER,
            user=user,
            by=user,
        )


async def claim_scribe(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="taking the scribe role"):
        await roles.assign(
            deps_of(context).ctx,
            incident_id=_incident_id(value),
            role=roles.Role.SCRIBE,
            user=user,
            by=user,
        )


async def acknowledge(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="acknowledging"):
        await roles.acknowledge(deps_of(context).ctx, incident_id=_incident_id(value), user=user)


async def accept_handoff(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="accepting command"):
        await roles.accept_handoff(deps_of(context).ctx, incident_id=_incident_id(value), user=user)
        await respond(replace_original=True, text=f":handshake: <@{user}> accepted command.")


async def decline_handoff(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="declining command"):
        await roles.decline_handoff(
            deps_of(context).ctx, incident_id=_incident_id(value), user=user
        )
        await respond(replace_original=True, text=f"<@{user}> declined command.")


async def confirm_resolve(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="resolving"):
        incident = await lifecycle.resolve(
            deps_of(context).ctx, incident_id=_incident_id(value), by=user
        )
        await respond(delete_original=True, text=f"{incident.ref} resolved.")


async def cancel_resolve(ack: Ack, respond: Respond) -> None:
    await ack()
    await respond(delete_original=True, text="Not resolved.")


async def snooze_updates(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    await ack()
    user, value = _clicked(body, action)
    async with reporting(respond, what="snoozing"):
        choice = snooze_choice(value)
        if choice is None:
            raise Refused("This snooze button is not one of Firebreak's.")
        incident_id, wait = choice
        incident = await lifecycle.snooze_updates(
            deps_of(context).ctx, incident_id=incident_id, by=user, wait=wait
        )
        await respond(
            response_type="ephemeral",
            replace_original=False,
            text=f"Status-update reminders for {incident.ref} snoozed for {format_duration(wait)}.",
        )
