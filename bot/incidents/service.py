"""Data access for incidents. Keyword-only, no side effects beyond the given session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.alerts.models import AlertOccurrence
from bot.incidents.models import Incident, Status
from bot.severity import Severity


@dataclass(frozen=True)
class OpenGroup:
    incident_id: int
    severity: str
    channel_id: str | None
    announcement_ts: str | None
    broadcast_ts: str | None


async def get(
    *, session: AsyncSession, incident_id: int, full: bool = False, alerts: bool = False
) -> Incident | None:
    """`full`: with its alerts and its timeline (which a long incident makes long); `alerts`:
    with its alerts only."""
    query = _get_query(with_alerts=full or alerts, with_timeline=full)
    return (await session.scalars(query, {"incident_id": incident_id})).one_or_none()


@cache
def _get_query(*, with_alerts: bool, with_timeline: bool) -> Select[Incident]:
    # Built once: the most run read (a storm's chat work loads each incident many times), and
    # a statement built anew each time costs about a third more (its cache key is worked out
    # again): 137 µs against 94 µs on SQLite.
    query = select(Incident).where(Incident.id == bindparam("incident_id"))
    if with_alerts:
        query = query.options(selectinload(Incident.alerts))
    if with_timeline:
        query = query.options(selectinload(Incident.timeline))
    return query


async def get_by_channel(*, session: AsyncSession, channel_id: str) -> Incident | None:
    query = select(Incident).where(Incident.channel_id == channel_id)
    return (await session.scalars(query)).one_or_none()


async def get_open_by_group(
    *, session: AsyncSession, source: str, group_key: str
) -> Incident | None:
    query = select(Incident).where(
        Incident.source == source,
        Incident.group_key == group_key,
        Incident.status != Status.RESOLVED,
    )
    return (await session.scalars(query)).one_or_none()


async def open_group_state(
    *, session: AsyncSession, source: str, group_key: str
) -> OpenGroup | None:
    """What a repeated notification needs to know of its group's open incident, if any."""
    params = {"source": source, "group_key": group_key}
    row = (await session.execute(_open_group_query(), params)).one_or_none()
    return None if row is None else OpenGroup(*row)


@cache
def _open_group_query() -> Select[Any]:
    # Built once, on the table: see bot.alerts.service._statuses_query.
    c = Incident.__table__.c
    return select(c.id, c.severity, c.channel_id, c.announcement_ts, c.broadcast_ts).where(
        c.source == bindparam("source"),
        c.group_key == bindparam("group_key"),
        c.status != Status.RESOLVED,
    )


@dataclass(frozen=True)
class OpenGroups:
    """What a round of intake writes reads of its groups: each one's open incident, and how
    many alerts fire in each of those."""

    states: dict[tuple[str, str], OpenGroup]
    firing: dict[int, int]


async def open_group_states(
    *, session: AsyncSession, groups: Iterable[tuple[str, str]]
) -> OpenGroups:
    """`open_group_state` of several (source, group key) pairs, with the alerts firing in
    each open incident, in one statement; a group with no open incident is left out. (The
    count came from a statement of its own, one more round trip in every round that resolves
    an alert.)"""
    wanted = set(groups)
    if not wanted:
        return OpenGroups({}, {})
    params = {
        "sources": sorted({source for source, _ in wanted}),
        "group_keys": sorted({key for _, key in wanted}),
    }
    rows = (await session.execute(_open_groups_query(), params)).all()
    states: dict[tuple[str, str], OpenGroup] = {}
    firing: dict[int, int] = {}
    for source, key, *state, count in rows:
        if (source, key) in wanted:  # the IN lists also match other pairs of their values
            group = states[(source, key)] = OpenGroup(*state)
            firing[group.incident_id] = int(count)
    return OpenGroups(states, firing)


@cache
def _open_groups_query() -> Select[Any]:
    c = Incident.__table__.c
    a = AlertOccurrence.__table__.c
    firing = (
        select(func.count()).where(a.incident_id == c.id, a.status == "firing").scalar_subquery()
    )
    return select(
        c.source,
        c.group_key,
        c.id,
        c.severity,
        c.channel_id,
        c.announcement_ts,
        c.broadcast_ts,
        firing,
    ).where(
        c.source.in_(bindparam("sources", expanding=True)),
        c.group_key.in_(bindparam("group_keys", expanding=True)),
        c.status != Status.RESOLVED,
    )


@dataclass(frozen=True)
class AlertCounts:
    total: int  # occurrences ever recorded
    firing: int  # of them, still firing


async def list_with_alert_counts(
    *, session: AsyncSession, open_only: bool = False, limit: int = 100
) -> list[tuple[Incident, AlertCounts]]:
    firing = case((AlertOccurrence.status == "firing", 1), else_=0)
    counts = (
        select(
            AlertOccurrence.incident_id,
            func.count().label("n"),
            func.sum(firing).label("firing"),
        )
        .group_by(AlertOccurrence.incident_id)
        .subquery()
    )
    query = (
        select(Incident, func.coalesce(counts.c.n, 0), func.coalesce(counts.c.firing, 0))
        .outerjoin(counts, counts.c.incident_id == Incident.id)
        .order_by(Incident.id.desc())
        .limit(limit)
    )
    if open_only:
        query = query.where(Incident.status != Status.RESOLVED)
    rows = (await session.execute(query)).all()
    return [(incident, AlertCounts(int(n), int(on))) for incident, n, on in rows]


async def firing_count(*, session: AsyncSession, incident_id: int) -> int:
    return int((await session.scalar(_firing_query(), {"incident_id": incident_id})) or 0)


async def firing_counts(*, session: AsyncSession, incident_ids: Iterable[int]) -> dict[int, int]:
    """How many alerts fire in each incident (0 where none): one statement for many."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    rows = await session.execute(_firing_counts_query(), {"incident_ids": wanted})
    return {incident_id: 0 for incident_id in wanted} | {int(i): int(n) for i, n in rows}


@cache
def _firing_counts_query() -> Select[Any]:
    c = AlertOccurrence.__table__.c
    return (
        select(c.incident_id, func.count())
        .where(c.incident_id.in_(bindparam("incident_ids", expanding=True)), c.status == "firing")
        .group_by(c.incident_id)
    )


@cache
def _firing_query() -> Select[int]:
    # Built once (see _get_query): every card and every resolution counts.
    return select(func.count()).where(
        AlertOccurrence.incident_id == bindparam("incident_id"),
        AlertOccurrence.status == "firing",
    )


async def mark_mitigated(*, session: AsyncSession, incident_id: int, at: datetime) -> None:
    """Stamp the first moment impact stopped (a state-changing playbook succeeded, status set
    to mitigated, every alert resolved), so the budget ledger can stop charging there without
    reading the timeline (bot.incidents.moments reads it all for the postmortem)."""
    await touch(session=session, touched={}, mitigated={incident_id: at})


async def touch(
    *,
    session: AsyncSession,
    touched: Mapping[int, datetime],
    mitigated: Mapping[int, datetime] | None = None,
) -> None:
    """Set each incident's updated_at (`touched`), and mark those in `mitigated` mitigated
    then (unless already mitigated or resolved): one statement for them all, in id order.
    (Two statements, one round trip each on PostgreSQL, where a round of intake writes both.)"""
    mitigated = mitigated or {}
    rows = [
        {"touched_id": i, "touched_at": touched.get(i), "new_mitigated_at": mitigated.get(i)}
        for i in sorted(touched.keys() | mitigated.keys())
    ]
    if rows:
        await session.execute(_touch_query(), rows)


@cache
def _touch_query() -> Update:
    table = _table()
    # The columns' own type (UTC-aware on every backend), which inside coalesce and case
    # SQLAlchemy would not infer.
    touched_at = bindparam("touched_at", type_=table.c.updated_at.type)
    new_mitigated_at = bindparam("new_mitigated_at", type_=table.c.mitigated_at.type)
    return (
        update(table)
        .where(table.c.id == bindparam("touched_id"))
        .values(
            updated_at=func.coalesce(touched_at, table.c.updated_at),
            mitigated_at=case(
                (
                    and_(
                        new_mitigated_at.is_not(None),
                        table.c.mitigated_at.is_(None),
                        table.c.resolved_at.is_(None),
                    ),
                    new_mitigated_at,
                ),
                else_=table.c.mitigated_at,
            ),
        )
    )


async def open_all(
    *, session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, str], int]:
    """Insert incidents opened for alert groups (rows of `opened_row`), all in one statement;
    each one's id by its (source, group key), which only one open incident holds."""
    if not rows:
        return {}
    found = await session.execute(_open_query(), list(rows))
    return {(r.source, r.group_key): int(r.id) for r in found}


def opened_row(
    *,
    title: str,
    severity: Severity,
    source: str,
    group_key: str,
    service: str | None,
    summary: str | None,
    description: str | None,
    source_url: str | None,
    runbook_url: str | None,
    drill: bool,
    now: datetime,
) -> dict[str, Any]:
    """An incident opened from an alert group, as a row for `open_all`."""
    return {
        "title": title,
        "status": Status.INVESTIGATING,
        "severity": severity,
        "service": service,
        "source": source,
        "group_key": group_key,
        "summary": summary,
        "description": description,
        "source_url": source_url,
        "runbook_url": runbook_url,
        "drill": drill,
        "created_at": now,
        "updated_at": now,
    }


@cache
def _open_query() -> Any:
    # One INSERT of many rows (insertmanyvalues), ids matched by group, not by row order.
    c = _table().c
    return insert(_table()).returning(c.id, c.source, c.group_key)


async def save_columns(
    *, session: AsyncSession, incident_id: int, values: Mapping[str, Any]
) -> None:
    """Set these columns of one incident: one statement, no object loaded first (each step
    of a channel's set-up saves what it made, a transaction of its own)."""
    table = _table()
    await session.execute(update(table).where(table.c.id == incident_id).values(**values))


async def set_severity(
    *, session: AsyncSession, incident_id: int, severity: Severity, now: datetime
) -> None:
    table = _table()
    await session.execute(
        update(table).where(table.c.id == incident_id).values(severity=severity, updated_at=now)
    )


def _table() -> Table:
    # Statements on the table, not the mapped class: no ORM execution steps.
    return cast(Table, Incident.__table__)


async def open_by_severity(*, session: AsyncSession) -> dict[str, int]:
    """How many incidents are open, by severity ('SEV1' → 2); absent severities have none."""
    query = (
        select(Incident.severity, func.count())
        .where(Incident.status != Status.RESOLVED)
        .group_by(Incident.severity)
    )
    return {severity: int(n) for severity, n in (await session.execute(query)).all()}


async def waiting_for_chat(*, session: AsyncSession, broadcast: bool) -> Sequence[int]:
    """Open incidents whose channel or announcements were never finished (Slack was down, or
    the bot was killed half-way); `broadcast`: whether the broadcast channel is configured."""
    unfinished = Incident.channel_id.is_(None) | Incident.announcement_ts.is_(None)
    if broadcast:
        unfinished = unfinished | Incident.broadcast_ts.is_(None)
    query = select(Incident.id).where(Incident.status != Status.RESOLVED, unfinished)
    return (await session.scalars(query)).all()


def create(
    *,
    session: AsyncSession,
    title: str,
    severity: Severity,
    source: str,
    now: datetime,
    service: str | None = None,
    group_key: str | None = None,
    summary: str | None = None,
    description: str | None = None,
    source_url: str | None = None,
    runbook_url: str | None = None,
    declared_by: str | None = None,
    drill: bool = False,
) -> Incident:
    incident = Incident(
        title=title,
        status=Status.INVESTIGATING,
        severity=severity,
        service=service,
        source=source,
        group_key=group_key,
        summary=summary,
        description=description,
        source_url=source_url,
        runbook_url=runbook_url,
        declared_by=declared_by,
        drill=drill,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    return incident
