"""How much of a service's error budget its incidents have spent in the rolling window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.budget.impact import Impact, clip, merge
from bot.budget.slo import Slo


@dataclass(frozen=True, kw_only=True)
class BudgetReport:
    """The budget of the window [window_start, now] and what the service's incidents spent of it."""

    window_start: datetime
    now: datetime
    budget: timedelta
    consumed: timedelta  # bad minutes: degraded fraction x duration, overlaps counted once
    remaining: timedelta  # negative once the budget is overspent
    consumed_fraction: float  # of the budget; above 1.0 once overspent
    per_incident: dict[int, timedelta]  # sums to `consumed`; drills never appear
    burn_rate: float  # now: degraded fraction / (1 - target); 0.0 when nothing is ongoing
    # When `remaining` reaches zero if the current burn goes on; None when nothing burns or the
    # budget is already spent (see `exhausted`). It ignores budget that earlier incidents give
    # back as they age out of the window, so it errs early.
    projected_exhaustion: datetime | None
    incident_id: int | None = None
    incident_consumed: timedelta | None = None  # the part of `consumed` charged to incident_id

    @property
    def exhausted(self) -> bool:
        return self.remaining <= timedelta(0)

    @property
    def incident_fraction(self) -> float | None:
        """Share of the budget spent by incident_id (a postmortem is due above 20%, say)."""
        if self.incident_consumed is None:
            return None
        return self.incident_consumed / self.budget


def account(
    *, slo: Slo, impacts: Sequence[Impact], now: datetime, incident_id: int | None = None
) -> BudgetReport:
    """The report for one service's impacts over the SLO's rolling window ending at now."""
    if now.utcoffset() is None:
        raise ValueError("naive datetime given for now; pass a timezone-aware time")
    window_start = now - slo.window
    segments = merge(clip(impacts, window_start=window_start, now=now))
    per_incident: dict[int, timedelta] = {}
    for segment in segments:
        per_incident[segment.incident_id] = (
            per_incident.get(segment.incident_id, timedelta(0)) + segment.bad
        )
    # Summed from the same per-segment values, so the per-incident parts add up exactly.
    consumed = sum(per_incident.values(), timedelta(0))
    budget = slo.budget
    remaining = budget - consumed
    burning = _current_fraction(impacts, now=now)
    exhaustion = None
    if burning > 0 and remaining > timedelta(0):
        # At fraction f the budget drains f bad minutes per minute of wall-clock time.
        exhaustion = now + remaining / burning
    return BudgetReport(
        window_start=window_start,
        now=now,
        budget=budget,
        consumed=consumed,
        remaining=remaining,
        consumed_fraction=consumed / budget,
        per_incident=per_incident,
        burn_rate=burning / slo.error_fraction,
        projected_exhaustion=exhaustion,
        incident_id=incident_id,
        incident_consumed=None
        if incident_id is None
        else per_incident.get(incident_id, timedelta(0)),
    )


def _current_fraction(impacts: Iterable[Impact], *, now: datetime) -> float:
    """The worst degradation going on at now (overlaps do not add up), drills left out."""
    return max(
        (
            i.fraction
            for i in impacts
            if not i.drill and i.start <= now and (i.end is None or i.end > now)
        ),
        default=0.0,
    )


def crossed(
    *, before: float, after: float, thresholds: Iterable[float] = (0.5, 1.0)
) -> list[float]:
    """The consumed_fraction thresholds reached going from before to after, lowest first.

    Reaching counts (0.4 → 0.5 crosses 0.5); starting on one does not, so a threshold is
    announced once. Going down crosses nothing: budget coming back is no news to announce.
    """
    return sorted(t for t in thresholds if before < t <= after)
