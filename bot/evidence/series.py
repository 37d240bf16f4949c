"""Which series of a query's result a graph shows: a few, those most worth seeing."""

from __future__ import annotations

from collections.abc import Sequence

from bot.evidence.ports import Series
from bot.evidence.promql import Threshold

MAX_SERIES = 5


def chosen(series: Sequence[Series], *, threshold: Threshold | None) -> list[Series]:
    """The MAX_SERIES series that went furthest toward the alert's side of its threshold
    (highest for > and without one, lowest for <), among those with points."""
    with_points = [s for s in series if s.points]
    if threshold is not None and threshold.op in ("<", "<="):
        ranked = sorted(with_points, key=lambda s: min(v for _, v in s.points))
    else:
        ranked = sorted(with_points, key=lambda s: -max(v for _, v in s.points))
    return ranked[:MAX_SERIES]
