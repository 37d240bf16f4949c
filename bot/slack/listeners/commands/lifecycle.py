"""`/incident status|severity|update|resolve|reopen`."""

from __future__ import annotations

from bot.incidents import lifecycle
from bot.incidents.errors import Refused
from bot.incidents.models import Status
from bot.severity import Severity
from bot.slack.blocks.messages import resolve_confirmation
from bot.slack.listeners.commands.base import Invocation, Subcommand

MAX_UPDATE = 3000


async def status(inv: Invocation) -> None:
    wanted = inv.args.strip().lower()
    if wanted == Status.RESOLVED:
        await resolve(inv)
        return
    if wanted not in {s.value for s in Status}:
        raise Refused(f"Status is one of: {', '.join(s.value for s in Status)}.")
    incident = inv.here()
    await inv.ack()
    await lifecycle.set_status(
        inv.deps.ctx, incident_id=incident.id, status=Status(wanted), by=inv.user
    )


async def severity(inv: Invocation) -> None:
    wanted = inv.args.strip().upper()
    if wanted not in Severity.__members__:
        raise Refused("Severity is one of: SEV1 (worst), SEV2, SEV3, SEV4.")
    incident = inv.here()
    await inv.ack()
    await lifecycle.set_severity(
        inv.deps.ctx, incident_id=incident.id, severity=Severity(wanted), by=inv.user
    )


async def update(inv: Invocation) -> None:
    text = inv.args.strip()
    if not text:
        raise Refused("Say what we know: `/incident update &lt;what we know, what is next&gt;`.")
    if len(text) > MAX_UPDATE:
        raise Refused(f"That update has {len(text)} characters; {MAX_UPDATE} at most.")
    incident = inv.here()
    await inv.ack()
    await lifecycle.post_update(inv.deps.ctx, incident_id=incident.id, text=text, by=inv.user)


async def resolve(inv: Invocation) -> None:
    """Resolving stops reminders and tells everyone: ask first, with buttons."""
    incident = inv.here()
    if not incident.is_open:
        raise Refused(f"{incident.ref} is already resolved.")
    firing = await lifecycle.alerts_firing(inv.deps.ctx, incident_id=incident.id)
    text, blocks = resolve_confirmation(incident.id, incident.ref, incident.title, firing=firing)
    await inv.tell(text, blocks=blocks)


async def reopen(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    await lifecycle.reopen(inv.deps.ctx, incident_id=incident.id, by=inv.user)


SUBCOMMANDS = {
    "status": Subcommand(
        "/incident status <state>",
        "investigating, identified, mitigated, monitoring or resolved",
        status,
    ),
    "severity": Subcommand("/incident severity SEV1..SEV4", "change the severity", severity),
    "update": Subcommand(
        "/incident update <text>", "post a status update here and in the broadcast channel", update
    ),
    "resolve": Subcommand("/incident resolve", "resolve the incident (asks to confirm)", resolve),
    "reopen": Subcommand("/incident reopen", "reopen a resolved incident", reopen),
}
