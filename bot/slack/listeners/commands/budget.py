"""`/incident budget [service]`."""

from __future__ import annotations

from bot.incidents import impact as impacts
from bot.incidents.errors import Refused
from bot.incidents.ledger import budget_of
from bot.mrkdwn import escape
from bot.slack.blocks.budget import budget_text
from bot.slack.listeners.commands.base import Invocation, Subcommand


async def budget(inv: Invocation) -> None:
    service = inv.args.strip() or (inv.incident.service if inv.incident else None)
    if not service:
        raise Refused(
            "Which service? `/incident budget &lt;service&gt;` (in an incident's channel, its "
            "service)."
        )
    found = await budget_of(
        inv.deps.ctx, service=service, incident_id=inv.incident.id if inv.incident else None
    )
    if found is None:
        configured = sorted(n for n, s in inv.deps.ctx.config.services.items() if s.slo)
        raise Refused(
            f"{escape(service)} has no SLO in firebreak.yaml"
            + (f" (services with one: {', '.join(configured)})." if configured else ".")
        )
    await inv.tell(budget_text(found, incident_ref=inv.incident.ref if inv.incident else None))


async def impact(inv: Invocation) -> None:
    incident = inv.here()
    await inv.ack()
    await impacts.state(inv.deps.ctx, incident_id=incident.id, by=inv.user, words=inv.args.split())
    await inv.tell("Impact noted; the budget counts it from now on.")


SUBCOMMANDS = {
    "budget": Subcommand("/incident budget [service]", "the service's error budget now", budget),
    "impact": Subcommand(
        "/incident impact start <time> / end <time> / <share>%",
        "state when the impact started or ended, or how much traffic it hits "
        "(times: now, -10m, 02:55 UTC, 2026-11-27T02:55Z)",
        impact,
    ),
}
