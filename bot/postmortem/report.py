"""`firebreak report`: per service, how incidents went — count, budget, and the median and
worst time to detect, acknowledge, mitigate and resolve — as Markdown."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.models import AlertOccurrence
from bot.context import Context
from bot.durations import format_duration
from bot.incidents.ledger import budget_of
from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.moments import NOT_ACTING, moments_of
from bot.playbooks.runs import PlaybookRun
from bot.postmortem.measures import DEFINITIONS, LABELS, MEANINGS, Milestones, standard_measures

_CHUNK = 500


class _OfIncident(Protocol):
    @property
    def incident_id(self) -> int: ...


_Row = TypeVar("_Row", bound=_OfIncident)


@dataclass(frozen=True)
class ServiceLine:
    service: str
    incidents: int
    budget: str  # e.g. "61% of 5m2s (7d)", or "no SLO"
    times: dict[str, list[timedelta]]  # measure name → the values that are known


async def gather(ctx: Context[object], *, since: datetime) -> list[ServiceLine]:
    async with ctx.reading() as session:
        incidents = list(
            await session.scalars(
                select(Incident)
                .where(Incident.created_at >= since, Incident.drill.is_(False))  # rehearsals
                .order_by(Incident.id)
            )
        )
        ids = [incident.id for incident in incidents]
        alerts = await _by_incident(session, AlertOccurrence, AlertOccurrence.incident_id, ids)
        entries = await _by_incident(
            session,
            TimelineEntry,
            TimelineEntry.incident_id,
            ids,
            TimelineEntry.kind.not_in(NOT_ACTING),  # never a moment: not read
        )
        runs = await _by_incident(session, PlaybookRun, PlaybookRun.incident_id, ids)
    by_service: dict[str, list[Milestones]] = defaultdict(list)
    for incident in incidents:
        moments = moments_of(
            incident=incident,
            alerts=alerts.get(incident.id, ()),
            timeline=entries.get(incident.id, ()),
            runs=runs.get(incident.id, ()),
        )
        by_service[incident.service or "(no service)"].append(Milestones.of(moments))
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
    moments = "; ".join(f"{LABELS[name]}: {meaning}" for name, meaning in MEANINGS.items())
    return (
        f"# Incidents since {since:%Y-%m-%d %H:%M} UTC (to {now:%Y-%m-%d %H:%M} UTC)\n\n"
        + "\n".join(rows)
        + f"\n\nMeasured from: {starts}.\n"
        + f"\nMoments: {moments}.\n"
    )


async def _by_incident(
    session: AsyncSession, model: type[_Row], column: Any, ids: list[int], *where: Any
) -> dict[int, list[_Row]]:
    """The rows of `model` of these incidents, by incident id (in chunks: a long report's ids
    would not fit one IN list)."""
    found: dict[int, list[_Row]] = defaultdict(list)
    for i in range(0, len(ids), _CHUNK):
        for row in await session.scalars(
            select(model).where(column.in_(ids[i : i + _CHUNK]), *where)
        ):
            found[row.incident_id].append(row)
    return found


def _span(delta: timedelta) -> str:
    return format_duration(timedelta(seconds=round(delta.total_seconds())))
