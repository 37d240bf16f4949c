"""`/incident commander|scribe @user`, `handoff @user` and `ack`."""

from __future__ import annotations

from bot.incidents import roles
from bot.incidents.errors import Refused
from bot.slack.listeners.commands.base import Invocation, Subcommand
from bot.slack.mentions import parse_user


def _person(inv: Invocation) -> str:
    words = inv.args.split()
    user = parse_user(words[0], me=inv.user) if words else None
    if user is None:
        raise Refused(
            f"Say who: `/incident {inv.name} @someone` (or `me`), mentioning them so Slack "
            "sends their ID."
        )
    return user


async def commander(inv: Invocation) -> None:
    await _assign(inv, roles.Role.COMMANDER)


async def scribe(inv: Invocation) -> None:
    await _assign(inv, roles.Role.SCRIBE)


async def _assign(inv: Invocation, role: roles.Role) -> None:
    user, incident = _person(inv), inv.here()
    await inv.ack()
    await roles.assign(inv.deps.ctx, incident_id=incident.id, role=role, user=user, by=inv.user)


async def handoff(inv: Invocation) -> None:
    user, incident = _person(inv), inv.here()
    await inv.ack()
    await roles.offer_handoff(inv.deps.ctx, incident_id=incident.id, to=user, by=inv.user)


async def acknowledge(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    await roles.acknowledge(inv.deps.ctx, incident_id=incident.id, user=inv.user)


SUBCOMMANDS = {
    "commander": Subcommand(
        "/incident commander @user", "make someone (or `me`) commander", commander
    ),
    "scribe": Subcommand("/incident scribe @user", "make someone (or `me`) scribe", scribe),
    "handoff": Subcommand(
        "/incident handoff @user", "offer command; it moves when they accept", handoff
    ),
    "ack": Subcommand("/incident ack", "the on-call commander says they are on it", acknowledge),
}
