"""Impact intervals of one service, clipped to a window and merged so no time counts twice.

An incident's impact comes from its alerts' firing intervals or from responders ("from 14:02 to
14:40, 40% of requests failed"). Several incidents (or several alerts of one) may overlap; the
service was only degraded once, at the worst of the fractions at that moment.

Attribution rule for overlapping time: each stretch goes wholly to one incident, the one whose
impact is at the highest fraction; among equals, the impact that started first (then the lowest
incident id). Why: duplicates of one outage (an alert-opened incident and a declared one) are
common, and splitting their time would hide a big incident below a postmortem threshold; the
incident already burning keeps being charged, a later one only for the harm it adds. And each
stretch going to a single incident makes the per-incident sums add up exactly to the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise


@dataclass(frozen=True, kw_only=True)
class Impact:
    """The service was degraded from start to end (None: still ongoing) for a share of traffic."""

    start: datetime
    end: datetime | None
    fraction: float = 1.0
    incident_id: int
    drill: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:  # also refuses NaN
            raise ValueError(f"fraction {self.fraction!r} must be above 0 and at most 1")
        for moment in (self.start, self.end):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("naive datetime given; impacts need timezone-aware times")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"impact ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A stretch of constant degradation, charged to one incident."""

    start: datetime
    end: datetime
    fraction: float
    incident_id: int

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def bad(self) -> timedelta:
        """Bad minutes: the degraded share of traffic times the stretch's length."""
        return self.duration * self.fraction


def clip(impacts: Iterable[Impact], *, window_start: datetime, now: datetime) -> list[Impact]:
    """The parts of the impacts inside [window_start, now]; ongoing ones end at now.

    Impacts wholly outside the window (or not yet begun) are dropped; drills are kept, merge()
    is where they stop counting.
    """
    out = []
    for impact in impacts:
        start = max(impact.start, window_start)
        end = now if impact.end is None else min(impact.end, now)
        if end > start:
            out.append(replace(impact, start=start, end=end))
    return out


def merge(impacts: Iterable[Impact]) -> list[Segment]:
    """Segments of constant fraction covering the impacts' union, drills left out, in time order.

    Over any stretch the fraction is the highest among the impacts active then, and the stretch
    goes to one incident as the module docstring says. Impacts must be closed: clip() them first.
    """
    # (start, end, fraction, incident_id) of each counted impact, its end known to be set.
    live: list[tuple[datetime, datetime, float, int]] = []
    for impact in impacts:
        if impact.drill:
            continue
        if impact.end is None:
            raise ValueError("merge() needs impacts with an end; clip() them to now first")
        live.append((impact.start, impact.end, impact.fraction, impact.incident_id))
    # Every start and end is a boundary, so each impact covers an elementary stretch wholly or
    # not at all. Quadratic, which is fine for the handful of incidents a window holds.
    bounds = sorted({moment for start, end, _, _ in live for moment in (start, end)})
    segments: list[Segment] = []
    for start, end in pairwise(bounds):
        active = [i for i in live if i[0] <= start and i[1] >= end]
        if not active:
            continue
        top = max(fraction for _, _, fraction, _ in active)
        # Earliest start, then lowest id, among the impacts at the top fraction.
        _, _, _, owner = min((i for i in active if i[2] == top), key=lambda i: (i[0], i[3]))
        last = segments[-1] if segments else None
        if (
            last is not None
            and last.end == start
            and last.fraction == top
            and last.incident_id == owner
        ):
            segments[-1] = replace(last, end=end)
        else:
            segments.append(Segment(start=start, end=end, fraction=top, incident_id=owner))
    return segments
