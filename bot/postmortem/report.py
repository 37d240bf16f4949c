"""`firebreak report`: per service, how incidents went — count, budget, and the median and
worst time to detect, acknowledge, mitigate and resolve — as Markdown."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.alerts.models import AlertOccurrence
from bot.context import Context
from bot.durations import format_duration
from bot.incidents.ledger import budget_of
from bot.incidents.models import Incident
from bot.postmortem.measures import DEFINITIONS, Milestones, standard_measures


@dataclass(frozen=True)
class ServiceLine:
    service: str
    incidents: int
    budget: str  # e.g. "61% of 5m2s (7d)", or "no SLO"
    times: dict[str, list[timedelta]]  # measure name → the values that are known


async def gather(ctx: Context[object], *, since: datetime) -> list[ServiceLine]:
    async with ctx.reading() as session:
        first_alert = (
            select(AlertOccurrence.incident_id, func.min(AlertOccurrence.starts_at).label("t"))
            .group_by(AlertOccurrence.incident_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(Incident, first_alert.c.t)
                .outerjoin(first_alert, first_alert.c.incident_id == Incident.id)
                .where(Incident.created_at >= since, Incident.drill.is_(False))  # rehearsals
                .order_by(Incident.id)
            )
        ).all()
    by_service: dict[str, list[Milestones]] = defaultdict(list)
    for incident, impact_started in rows:
        by_service[incident.service or "(no service)"].append(
            Milestones(
                impact_started=impact_started,
                detected=incident.created_at,
                acknowledged=incident.acknowledged_at,
                mitigated=incident.mitigated_at,
                resolved=incident.resolved_at,
            )
        )
    lines = []
    for service in sorted(by_service):
        times: dict[str, list[timedelta]] = defaultdict(list)
        for milestones in by_service[service]:
            for m in standard_measures(milestones=milestones):
                if m.value is not None:
                    times[m.name].append(m.value)
        found = await budget_of(ctx, service=service)
        budget = (
            f"{found.report.consumed_fraction:.0%} of {format_duration(found.report.budget)}"
            f" ({format_duration(found.slo.window)})"
            if found
            else "no SLO"
        )
        lines.append(
            ServiceLine(
                service=service,
                incidents=len(by_service[service]),
                budget=budget,
                times=dict(times),
            )
        )
    return lines


def markdown(lines: list[ServiceLine], *, since: datetime, now: datetime) -> str:
    names = [name for name, _, _ in DEFINITIONS]
    head = (
        "| service | incidents | budget used (window to now) | "
        + " | ".join(f"{n} median / worst" for n in names)
        + " |"
    )
    rows = [head, "|" + "---|" * (3 + len(names))]
    for line in lines:
        cells = [line.service, str(line.incidents), line.budget]
        for name in names:
            values = line.times.get(name, [])
            if not values:
                cells.append("-")
                continue
            median = timedelta(seconds=statistics.median(v.total_seconds() for v in values))
            cells.append(f"{_span(median)} / {_span(max(values))}")
        rows.append("| " + " | ".join(cells) + " |")
    starts = "; ".join(f"{name}: {start} → {end}" for name, start, end in DEFINITIONS)
    return (
        f"# Incidents since {since:%Y-%m-%d %H:%M} UTC (to {now:%Y-%m-%d %H:%M} UTC)\n\n"
        + "\n".join(rows)
        + f"\n\nMeasured from: {starts}.\n"
    )


def _span(delta: timedelta) -> str:
    return format_duration(timedelta(seconds=round(delta.total_seconds())))
