"""An alert's graph drawn from one call whose arguments pickle: what a Drawer runs, in a thread
or in a process of its own (bot.evidence.adapters.drawing). Light to import: matplotlib is
loaded inside the call, so a drawing process that unpickles a call here loads little else."""

from __future__ import annotations

from datetime import datetime

from bot.evidence.ports import Series
from bot.evidence.promql import Query
from bot.evidence.series import chosen


def alert_graph(
    *,
    title: str,
    query: Query,
    series: list[Series],
    start: datetime,
    end: datetime,
    started: datetime,
    resolved: datetime | None,
    changes: list[tuple[datetime, str]],
) -> bytes:
    """The PNG of bot.evidence.graph for the alert's query, its chosen series and the changes."""
    # Here, not at the top: it imports matplotlib, which the bot need not load until it draws.
    from bot.evidence.graph import Moment, alert_graph_png

    return alert_graph_png(
        title=title,
        expr=query.text,
        series=chosen(series, threshold=query.threshold),
        start=start,
        end=end,
        started=started,
        resolved=resolved,
        threshold=query.threshold,
        changes=[Moment(label=label, at=at) for at, label in changes],
    )
