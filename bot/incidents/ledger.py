"""A service's error budget now: its incidents' alert intervals up to mitigation, accounted
against its SLO."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, or_, select

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
    # Every impact the report was made from, plus those needed to account from `since` on.
    impacts: tuple[Impact, ...] = ()


async def budget_of(
    ctx: Context[object],
    *,
    service: str | None,
    incident_id: int | None = None,
    since: datetime | None = None,
) -> ServiceBudget | None:
    """None when the service has no SLO in firebreak.yaml.

    `since`: also load the impacts needed to account at any moment from then to now (for a
    burn-down); the report itself is for now.
    """
    svc = ctx.config.service(service)
    if service is None or svc is None or svc.slo is None:
        return None
    now = ctx.clock()
    window_start = min(now, since or now) - svc.slo.window
    async with ctx.reading() as session:
        rows = (
            await session.execute(
                select(
                    AlertOccurrence.incident_id,
                    AlertOccurrence.starts_at,
                    AlertOccurrence.ends_at,
                    Incident.drill,
                    Incident.mitigated_at,
                    Incident.resolved_at,
                )
                .join(Incident, Incident.id == AlertOccurrence.incident_id)
                .where(
                    Incident.service == service,
                    AlertOccurrence.starts_at < now,
                    or_(AlertOccurrence.ends_at.is_(None), AlertOccurrence.ends_at > window_start),
                )
            )
        ).all()
        stated = (
            await session.scalars(
                select(Incident).where(
                    Incident.service == service,
                    or_(
                        Incident.impact_started_at.is_not(None),
                        Incident.impact_ended_at.is_not(None),
                        Incident.impact_fraction.is_not(None),
                    ),
                    or_(
                        Incident.impact_ended_at.is_(None), Incident.impact_ended_at > window_start
                    ),
                )
            )
        ).all()
    by_responders = {incident.id: incident for incident in stated}
    # An alert's firing interval is full impact until the incident was mitigated (or resolved),
    # unless responders said otherwise: an alert that resolves minutes after the rollback, or
    # never, charges nothing for the time after impact stopped (as bot.postmortem.charge does).
    # Drills are kept as such: the accounting leaves them out of consumption and burn.
    impacts = [
        Impact(start=start, end=_clipped(end, stop), incident_id=owner, drill=drill)
        for owner, start, end, drill, stop in _stops(rows)
        if owner not in by_responders and (stop is None or start < stop)
    ]
    for incident in stated:
        own = [(row.starts_at, row.ends_at) for row in rows if row.incident_id == incident.id]
        impacts.append(_stated(incident, own))
    report = account(slo=svc.slo, impacts=impacts, now=now, incident_id=incident_id)
    return ServiceBudget(service=service, slo=svc.slo, report=report, impacts=tuple(impacts))


def _clipped(end: datetime | None, stop: datetime | None) -> datetime | None:
    if stop is None:
        return end
    return stop if end is None else min(end, stop)


def _stops(
    rows: Iterable[Row[int, datetime, datetime | None, bool, datetime | None, datetime | None]],
) -> Iterator[tuple[int, datetime, datetime | None, bool, datetime | None]]:
    """Each alert row with the moment its incident's impact stopped: mitigated, else resolved."""
    for owner, start, end, drill, mitigated, resolved in rows:
        stops = [m for m in (mitigated, resolved) if m is not None]
        yield owner, start, end, drill, min(stops, default=None)


def _stated(incident: Incident, alerts: list[tuple[datetime, datetime | None]]) -> Impact:
    """Responders' word first; what they left unsaid comes from the alerts, then the record."""
    start = incident.impact_started_at or min((s for s, _ in alerts), default=incident.created_at)
    end = incident.impact_ended_at
    if end is None and alerts and all(e is not None for _, e in alerts):
        end = max(e for _, e in alerts if e is not None)
    if end is None and not incident.is_open:
        end = incident.resolved_at
    if end is not None and end < start:
        end = start  # a stated end before the alerts began: nothing to count
    return Impact(
        start=start,
        end=end,
        fraction=incident.impact_fraction or 1.0,
        incident_id=incident.id,
        drill=incident.drill,
    )
