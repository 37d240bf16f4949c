"""The error-budget policy, as the budget clock ticks: say when a service crosses a share of
its budget (50%, 100%), and when it is spent offer the freeze playbook."""

from __future__ import annotations

from bot.budget.account import crossed
from bot.durations import format_duration
from bot.incidents import service
from bot.incidents.freezes import freeze_started
from bot.incidents.ledger import ServiceBudget
from bot.incidents.models import Incident
from bot.incidents.ports import IncidentContext
from bot.mrkdwn import escape

POLICY = "error-budget policy"  # who a freeze the policy starts is by


async def announce_thresholds(
    ctx: IncidentContext, incident: Incident, budget: ServiceBudget
) -> None:
    """Each threshold is announced once per incident, whichever tick crosses it first."""
    rules = ctx.config.budget
    passed = crossed(
        before=incident.budget_announced or 0.0,
        after=budget.report.consumed_fraction,
        thresholds=rules.thresholds,
    )
    if not passed:
        return
    highest = max(passed)
    async with ctx.sessions.begin() as session:
        stored = await service.get(session=session, incident_id=incident.id)
        if stored is None or (stored.budget_announced or 0.0) >= highest:
            return  # another tick got there first
        stored.budget_announced = highest
    slo = f"{budget.slo.target:g}% over {format_duration(budget.slo.window)}"
    service_name = escape(budget.service)
    if highest >= 1.0:
        await freeze_started(
            ctx,
            service_name=budget.service,
            reason=f"error budget spent ({slo}) during {incident.ref}",
            by=POLICY,
            source="budget_policy",
            incident=incident,
        )
        text = (
            f":rotating_light: {service_name} has spent its whole error budget ({slo}) "
            f"during {incident.ref}. The error-budget policy: freeze changes until it is "
            "back within its SLO."
        )
    else:
        text = (
            f":warning: {service_name} has used {highest:.0%} of its error budget ({slo}) "
            f"during {incident.ref}."
        )
    if ctx.config.broadcast_channel:
        await ctx.chat.say(channel=ctx.config.broadcast_channel, text=text)
    if incident.channel_id is None:
        return
    if highest >= 1.0 and rules.freeze_playbook:
        await ctx.chat.offer_playbook(
            channel=incident.channel_id,
            incident_id=incident.id,
            playbook=rules.freeze_playbook,
            text=text,
        )
    else:
        await ctx.chat.say(channel=incident.channel_id, text=text)
