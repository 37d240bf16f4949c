"""Data access for stored alert occurrences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.models import AlertOccurrence

OccurrenceKey = tuple[str, datetime]


async def statuses(
    *, session: AsyncSession, source: str, keys: Iterable[OccurrenceKey]
) -> dict[OccurrenceKey, str]:
    """The stored status of each known occurrence: three columns, no objects (the repeat check
    of every notification in a storm)."""
    wanted = set(keys)
    if not wanted:
        return {}
    query = _statuses_query()
    fingerprints = sorted({fp for fp, _ in wanted})
    rows = (await session.execute(query, {"source": source, "fingerprints": fingerprints})).all()
    return {(fp, at): status for fp, at, status in rows if (fp, at) in wanted}


@cache
def _statuses_query() -> Select[Any]:
    # Built once and on the table, not the mapped class: statement building and the ORM's
    # execution steps were most of this query's cost, on every notification of a storm.
    c = AlertOccurrence.__table__.c
    return select(c.fingerprint, c.starts_at, c.status).where(
        c.source == bindparam("source"),
        c.fingerprint.in_(bindparam("fingerprints", expanding=True)),
    )


async def find(
    *, session: AsyncSession, source: str, keys: Iterable[OccurrenceKey]
) -> dict[OccurrenceKey, AlertOccurrence]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    fingerprints = {fp for fp, _ in wanted}
    query = select(AlertOccurrence).where(
        AlertOccurrence.source == source, AlertOccurrence.fingerprint.in_(fingerprints)
    )
    rows = (await session.scalars(query)).all()
    found = {(row.fingerprint, row.starts_at): row for row in rows}
    return {key: found[key] for key in wanted if key in found}
