"""The error budget left over time: the burn-down a postmortem draws.

Each point is a full `account` at that moment (its own rolling window), so the curve also rises
where an old incident ages out of the window. Between two consecutive breakpoints (an impact
starting or ending, here or one window earlier) the remaining budget changes linearly, so
sampling at the breakpoints gives the exact curve; evenly spaced points are added so a renderer
can draw it without knowing that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.budget.account import account
from bot.budget.impact import Impact
from bot.budget.slo import Slo

EVEN_POINTS = 48


@dataclass(frozen=True, kw_only=True, slots=True)
class BurnPoint:
    at: datetime
    remaining: timedelta  # negative once the budget is overspent


def burn_down(
    *, slo: Slo, impacts: Sequence[Impact], start: datetime, end: datetime
) -> tuple[BurnPoint, ...]:
    """The remaining budget from start to end, at every breakpoint in between and a few more."""
    if end < start:
        raise ValueError(f"the burn-down ends ({end}) before it starts ({start})")
    moments = {start, end}
    step = (end - start) / EVEN_POINTS
    if step > timedelta(0):
        moments.update(start + step * i for i in range(1, EVEN_POINTS))
    for impact in impacts:
        for edge in (impact.start, impact.end):
            if edge is None:
                continue
            # An edge matters when it happens, and again one window later when it ages out.
            for moment in (edge, edge + slo.window):
                if start < moment < end:
                    moments.add(moment)
    return tuple(
        BurnPoint(at=moment, remaining=account(slo=slo, impacts=impacts, now=moment).remaining)
        for moment in sorted(moments)
    )
