"""Incident buttons: claim a role, acknowledge, accept or decline a handoff, confirm or cancel a
resolve, snooze status-update reminders. Refusals (the wrong person accepting a handoff, a role
already taken) go back privately."""

from __future__ import annotations

from typing import Any

from bot.durations import format_duration
from bot.incidents import lifecycle, roles
from bot.incidents.errors import Refused
from bot.incidents.reading import load
from bot.mrkdwn import mention
from bot.slack.blocks.messages import resolve_confirmation, snooze_choice
from bot.slack.deps import Deps
from bot.slack.listeners.actions.clicks import number, on_click
from bot.slack.listeners.commands.base import Ack
from bot.slack.listeners.reply import Respond

Reply = dict[str, Any] | None


async def _command(deps: Deps, user: str, value: str) -> Reply:
    await roles.assign(
        deps.ctx, incident_id=number(value), role=roles.Role.COMMANDER, user=user, by=user
    )
    return None


async def _scribe(deps: Deps, user: str, value: str) -> Reply:
    await roles.assign(
        deps.ctx, incident_id=number(value), role=roles.Role.SCRIBE, user=user, by=user
    )
    return None


async def _acknowledge(deps: Deps, user: str, value: str) -> Reply:
    await roles.acknowledge(deps.ctx, incident_id=number(value), user=user)
    return None


async def _accept(deps: Deps, user: str, value: str) -> Reply:
    await roles.accept_handoff(deps.ctx, incident_id=number(value), user=user)
    return {"replace_original": True, "text": f":handshake: {mention(user)} accepted command."}


async def _decline(deps: Deps, user: str, value: str) -> Reply:
    await roles.decline_handoff(deps.ctx, incident_id=number(value), user=user)
    return {"replace_original": True, "text": f"{mention(user)} declined command."}


async def _resolve(deps: Deps, user: str, value: str) -> Reply:
    incident_id = number(value)
    # Alerts firing at the click (not only when asked): a second, explicit confirmation.
    if not value.endswith(":firing"):
        firing = await lifecycle.alerts_firing(deps.ctx, incident_id=incident_id)
        if firing:
            incident = await load(deps.ctx, incident_id=incident_id)
            text, blocks = resolve_confirmation(
                incident_id, incident.ref, incident.title, firing=firing, again=True
            )
            return {"replace_original": True, "text": text, "blocks": blocks}
    incident = await lifecycle.resolve(deps.ctx, incident_id=incident_id, by=user)
    return {"delete_original": True, "text": f"{incident.ref} resolved."}


async def _snooze(deps: Deps, user: str, value: str) -> Reply:
    choice = snooze_choice(value)
    if choice is None:
        raise Refused("This snooze button is not one of Firebreak's.")
    incident_id, wait = choice
    incident = await lifecycle.snooze_updates(deps.ctx, incident_id=incident_id, by=user, wait=wait)
    return {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": f"Status-update reminders for {incident.ref} snoozed for {format_duration(wait)}.",
    }


claim_commander = on_click("taking command", _command)
claim_scribe = on_click("taking the scribe role", _scribe)
acknowledge = on_click("acknowledging", _acknowledge)
accept_handoff = on_click("accepting command", _accept)
decline_handoff = on_click("declining command", _decline)
confirm_resolve = on_click("resolving", _resolve)
snooze_updates = on_click("snoozing", _snooze)


async def cancel_resolve(ack: Ack, respond: Respond) -> None:
    await ack()
    await respond(delete_original=True, text="Not resolved.")
