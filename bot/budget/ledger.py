"""A service's error budget now: its incidents' alert intervals, accounted against its SLO."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from bot.alerts.models import AlertOccurrence
from bot.budget.account import BudgetReport, account
from bot.budget.impact import Impact
from bot.budget.slo import Slo
from bot.context import Context
from bot.incidents.models import Incident


@dataclass(frozen=True)
class ServiceBudget:
    service: str
    slo: Slo
    report: BudgetReport


async def budget_of(
    ctx: Context, *, service: str | None, incident_id: int | None = None
) -> ServiceBudget | None:
    """None when the service has no SLO in firebreak.yaml."""
    svc = ctx.config.service(service)
    if service is None or svc is None or svc.slo is None:
        return None
    now = ctx.clock()
    window_start = now - svc.slo.window
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(
                    AlertOccurrence.incident_id, AlertOccurrence.starts_at, AlertOccurrence.ends_at
                )
                .join(Incident, Incident.id == AlertOccurrence.incident_id)
                .where(
                    Incident.service == service,
                    AlertOccurrence.starts_at < now,
                    or_(AlertOccurrence.ends_at.is_(None), AlertOccurrence.ends_at > window_start),
                )
            )
        ).all()
    # An alert's firing interval is full impact until responders say otherwise.
    impacts = [Impact(start=start, end=end, incident_id=owner) for owner, start, end in rows]
    report = account(slo=svc.slo, impacts=impacts, now=now, incident_id=incident_id)
    return ServiceBudget(service=service, slo=svc.slo, report=report)
