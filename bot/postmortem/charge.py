"""The bad time a postmortem charges to its incident.

Without a stated impact (`/incident impact`), the ledger counts every alert's firing interval as
full impact, up to the alert's end (or now, while it fires): an alert that resolves minutes
after the rollback, or never, would charge the incident for time after impact stopped. The
postmortem counts the alerts' firing time only from impact start to mitigation (or to
resolution, or now, before either), so the bad time never exceeds the impact duration it states.
What responders stated is their word, and is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.budget.impact import Impact
from bot.incidents.moments import Moments


def impact_stated(incident: object) -> bool:
    """Responders stated the impact (start, end or share): the ledger takes their word."""
    return any(
        getattr(incident, name, None) is not None
        for name in ("impact_started_at", "impact_ended_at", "impact_fraction")
    )


def charged_span(moments: Moments, *, now: datetime) -> tuple[datetime, datetime]:
    """Impact start to mitigation, else resolution, else now."""
    start = moments.impact_started or moments.detected
    end = moments.mitigated or moments.resolved or now
    return start, max(start, end)


def charged(
    impacts: Iterable[Impact],
    *,
    incident_id: int,
    moments: Moments,
    stated: bool,
    now: datetime,
) -> tuple[Impact, ...]:
    """The service's impacts with this incident's alert intervals clipped to its charged span;
    other incidents' impacts, and a stated impact, as they are."""
    if stated:
        return tuple(impacts)
    start, end = charged_span(moments, now=now)
    out: list[Impact] = []
    for impact in impacts:
        if impact.incident_id != incident_id:
            out.append(impact)
            continue
        begin = max(impact.start, start)
        finish = end if impact.end is None else min(impact.end, end)
        if finish > begin:
            out.append(replace(impact, start=begin, end=finish))
    return tuple(out)
