"""Data access for stored alert occurrences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.models import AlertOccurrence

OccurrenceKey = tuple[str, datetime]


async def statuses(
    *, session: AsyncSession, source: str, keys: Iterable[OccurrenceKey], keyed: bool = False
) -> dict[OccurrenceKey, str]:
    """The stored status of each known occurrence: three columns, no objects (the repeat check
    of every notification in a storm). `keyed`: see `find`."""
    wanted = set(keys)
    if not wanted:
        return {}
    query = _statuses_query()
    fingerprints = sorted({fp for fp, _ in wanted})
    rows = (await session.execute(query, {"source": source, "fingerprints": fingerprints})).all()
    stored = {(fp, at): status for fp, at, status in rows}
    return {key: stored[found] for key, found in _matched(wanted, stored, keyed).items()}


@cache
def _statuses_query() -> Select[Any]:
    # Built once and on the table, not the mapped class: statement building and the ORM's
    # execution steps were most of this query's cost, on every notification of a storm.
    c = AlertOccurrence.__table__.c
    return select(c.fingerprint, c.starts_at, c.status).where(
        c.source == bindparam("source"),
        c.fingerprint.in_(bindparam("fingerprints", expanding=True)),
    )


class Stored(NamedTuple):
    """What intake needs of a stored occurrence: a row, not an ORM object (the write path of
    every changing notification in a storm)."""

    id: int
    incident_id: int
    status: str
    name: str
    generator_url: str | None
    fingerprint: str
    starts_at: datetime


async def find(
    *, session: AsyncSession, source: str, keys: Iterable[OccurrenceKey], keyed: bool = False
) -> dict[OccurrenceKey, Stored]:
    """The stored occurrence of each key. `keyed`: a key whose start is not stored means the
    occurrence of its fingerprint that is still firing, if any (senders that name alerts by
    key alone give a different start from one notification to the next)."""
    wanted = set(keys)
    stored = await of_fingerprints(
        session=session, source=source, fingerprints={fp for fp, _ in wanted}
    )
    return matching(stored, wanted, keyed=keyed)


async def of_fingerprints(
    *, session: AsyncSession, source: str, fingerprints: Iterable[str]
) -> dict[OccurrenceKey, Stored]:
    """Every stored occurrence of these fingerprints, by (fingerprint, startsAt)."""
    wanted = sorted(set(fingerprints))
    if not wanted:
        return {}
    rows = (await session.execute(_find_query(), {"source": source, "fingerprints": wanted})).all()
    return {
        (r.fingerprint, r.starts_at): Stored(
            r.id, r.incident_id, r.status, r.name, r.generator_url, r.fingerprint, r.starts_at
        )
        for r in rows
    }


def matching(
    stored: Mapping[OccurrenceKey, Stored], keys: Iterable[OccurrenceKey], *, keyed: bool
) -> dict[OccurrenceKey, Stored]:
    """`find`'s answer from occurrences already read (`of_fingerprints`, for these keys'
    fingerprints at least)."""
    wanted = set(keys)
    statuses = {key: row.status for key, row in stored.items()}
    return {key: stored[found] for key, found in _matched(wanted, statuses, keyed).items()}


@cache
def _find_query() -> Select[Any]:
    c = AlertOccurrence.__table__.c
    return select(
        c.fingerprint, c.starts_at, c.id, c.incident_id, c.status, c.name, c.generator_url
    ).where(
        c.source == bindparam("source"),
        c.fingerprint.in_(bindparam("fingerprints", expanding=True)),
    )


SourcedKey = tuple[str, str, datetime]  # (source, fingerprint, startsAt): one occurrence


async def add_all(
    *, session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[SourcedKey, int]:
    """Insert occurrences, all in one statement; each one's id by its (source, fingerprint,
    startsAt), which the table holds once."""
    if not rows:
        return {}
    found = await session.execute(_add_query(), list(rows))
    return {(r.source, r.fingerprint, r.starts_at): int(r.id) for r in found}


@cache
def _add_query() -> Any:
    # One INSERT of many rows (SQLAlchemy's "insertmanyvalues"), its ids matched to the rows by
    # the occurrence's key, not by order: asking for the order would make SQLite's one a row.
    c = _table().c
    return insert(_table()).returning(c.id, c.source, c.fingerprint, c.starts_at)


class Shown(NamedTuple):
    """An occurrence as its incident's graph reads it (bot.evidence): a row, not an ORM
    object (loading an incident's alerts as objects cost a graph about 1 ms of CPU)."""

    id: int
    name: str
    status: str
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str | None
    annotations: dict[str, Any] | None


async def of_incident(*, session: AsyncSession, incident_id: int) -> list[Shown]:
    """The incident's occurrences, by start."""
    rows = await session.execute(_of_incident_query(), {"incident_id": incident_id})
    return [Shown(*row) for row in rows]


@cache
def _of_incident_query() -> Select[Any]:
    c = _table().c
    return (
        select(c.id, c.name, c.status, c.starts_at, c.ends_at, c.generator_url, c.annotations)
        .where(c.incident_id == bindparam("incident_id"))
        .order_by(c.starts_at, c.id)
    )


class Resolution(NamedTuple):
    occurrence_id: int
    ends_at: datetime
    received_at: datetime


async def resolve_all(*, session: AsyncSession, resolutions: Sequence[Resolution]) -> None:
    """Mark each occurrence resolved: one statement, its rows sent together (executemany)."""
    if resolutions:
        rows = [
            {"occurrence_id": r.occurrence_id, "new_ends_at": r.ends_at, "new_at": r.received_at}
            for r in resolutions
        ]
        await session.execute(_resolve_query(), rows)


@cache
def _resolve_query() -> Update:
    table = _table()
    return (
        update(table)
        .where(table.c.id == bindparam("occurrence_id"))
        .values(
            status="resolved",
            # Not named after the columns: an UPDATE keeps those names for its SET clause.
            ends_at=bindparam("new_ends_at"),
            resolved_received_at=bindparam("new_at"),
        )
    )


def _table() -> Table:
    # Statements on the table, not the mapped class: no ORM execution steps (see above).
    return cast(Table, AlertOccurrence.__table__)


def _matched(
    wanted: set[OccurrenceKey], stored: dict[OccurrenceKey, str], keyed: bool
) -> dict[OccurrenceKey, OccurrenceKey]:
    """Each wanted key that is stored → the stored key it means."""
    matched = {key: key for key in wanted if key in stored}
    if keyed:
        firing: dict[str, OccurrenceKey] = {}
        for fp, at in sorted(k for k, status in stored.items() if status == "firing"):
            firing[fp] = (fp, at)  # the latest start wins, should there be two
        for key in wanted - matched.keys():
            if key[0] in firing:
                matched[key] = firing[key[0]]
    return matched
