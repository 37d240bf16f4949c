"""Which series of a query's result a graph shows: a few, those most worth seeing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.evidence.ports import Series
from bot.evidence.promql import Threshold

MAX_SERIES = 5


def chosen(series: Sequence[Series], *, threshold: Threshold | None) -> list[Series]:
    """The MAX_SERIES series that went furthest toward the alert's side of its threshold
    (highest for > and without one, lowest for <), among those with points."""
    with_points = [s for s in series if s.values]
    if threshold is not None and threshold.op in ("<", "<="):
        ranked = sorted(with_points, key=lambda s: min(s.values))
    else:
        ranked = sorted(with_points, key=lambda s: -max(s.values))
    return ranked[:MAX_SERIES]


def shown_from(
    start: datetime, end: datetime, *, series: Sequence[Series], moments: Sequence[datetime]
) -> datetime:
    """Where the x axis begins: at `start`, or later when the data begins later (a new metric,
    a fresh Prometheus), so an hour of nothing does not squeeze the story into the right edge.
    The alert's start and the changes in the window stay in view."""
    firsts = [first for s in series if (first := s.first()) is not None]
    if not firsts:
        return start
    first = min([*firsts, *(m for m in moments if start <= m <= end)])
    margin = max((end - first) / 10, timedelta(seconds=5))
    return max(start, first - margin)
