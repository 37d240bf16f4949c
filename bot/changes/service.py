"""Data access for changes and freezes. Keyword-only, no side effects beyond the given session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.changes.models import Change, Freeze, RegistryAlias
from bot.changes.schemas import ROLLOUTS, ChangeEvent, ChangeKind

# A canary or shadow also ends when the same service is deployed or promoted outright.
_ENDS_ANY_ROLLOUT = {ChangeKind.DEPLOY, ChangeKind.MODEL_PROMOTION}


async def find(*, session: AsyncSession, event_id: str) -> Change | None:
    return (await session.scalars(select(Change).where(Change.event_id == event_id))).one_or_none()


async def get(*, session: AsyncSession, change_id: int) -> Change | None:
    return await session.get(Change, change_id)


def add(
    *,
    session: AsyncSession,
    event: ChangeEvent,
    now: datetime,
    drill_incident_id: int | None = None,
    freeze_id: int | None = None,
) -> Change:
    change = Change(
        event_id=event.id,
        kind=event.kind,
        service=event.service,
        version=event.version,
        previous_version=event.previous_version,
        author=event.author,
        link=event.link,
        summary=event.summary,
        at=event.time or now,
        received_at=now,
        drill_incident_id=drill_incident_id,
        freeze_id=freeze_id,
    )
    session.add(change)
    return change


async def since(
    *,
    session: AsyncSession,
    services: Sequence[str],
    start: datetime,
    drill_incident_id: int | None = None,
    limit: int = 50,
) -> list[Change]:
    """The services' changes at or after `start`, newest first. A drill also sees its own."""
    own = (
        Change.drill_incident_id.is_(None)
        if drill_incident_id is None
        else or_(Change.drill_incident_id.is_(None), Change.drill_incident_id == drill_incident_id)
    )
    query = (
        select(Change)
        .where(Change.service.in_(services), Change.at >= start, own)
        .order_by(Change.at.desc(), Change.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def in_progress(changes: Sequence[Change]) -> list[Change]:
    """Canary and shadow starts that nothing later (abort, stop, a full rollout) ended.

    `changes` newest first, as `since` returns them.
    """
    ended: set[tuple[str, str]] = set()  # (service, start kind) seen ended by a newer change
    running: list[Change] = []
    for change in changes:
        if change.kind in _ENDS_ANY_ROLLOUT:
            ended.update((change.service, start) for start in ROLLOUTS)
        for start, end in ROLLOUTS.items():
            if change.kind == end:
                ended.add((change.service, start))
        if change.kind in ROLLOUTS and (change.service, change.kind) not in ended:
            running.append(change)
            ended.add((change.service, change.kind))  # an older start is superseded
    return running


async def get_freeze(*, session: AsyncSession, freeze_id: int) -> Freeze | None:
    return await session.get(Freeze, freeze_id)


async def active_freeze(*, session: AsyncSession, service: str) -> Freeze | None:
    query = (
        select(Freeze)
        .where(Freeze.service == service, Freeze.lifted_at.is_(None))
        .order_by(Freeze.started_at.desc(), Freeze.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).one_or_none()


async def freeze(
    *,
    session: AsyncSession,
    service: str,
    reason: str,
    by: str,
    source: str,
    incident_id: int | None,
    now: datetime,
) -> Freeze:
    """Freezing a frozen service replaces the reason (as the Deployment API does); `since`
    stays the first freeze's."""
    current = await active_freeze(session=session, service=service)
    if current is not None:
        current.reason, current.by, current.source = reason, by, source
        current.incident_id = incident_id
        return current
    created = Freeze(
        service=service,
        reason=reason,
        by=by,
        source=source,
        incident_id=incident_id,
        started_at=now,
    )
    session.add(created)
    return created


async def lift(*, session: AsyncSession, service: str, by: str, now: datetime) -> list[Freeze]:
    lifted = list(
        (
            await session.scalars(
                select(Freeze).where(Freeze.service == service, Freeze.lifted_at.is_(None))
            )
        ).all()
    )
    for row in lifted:
        row.lifted_at, row.lifted_by = now, by
    return lifted


# --- model registry aliases (bot.changes.registry) -----------------------------------------


async def registry_alias(
    *, session: AsyncSession, service: str, model: str, alias: str
) -> RegistryAlias | None:
    """Where the alias was last seen, for the service; None before the first sighting."""
    query = select(RegistryAlias).where(
        RegistryAlias.service == service, RegistryAlias.model == model, RegistryAlias.alias == alias
    )
    return (await session.scalars(query)).one_or_none()


def add_registry_alias(
    *, session: AsyncSession, service: str, model: str, alias: str, version: str, now: datetime
) -> RegistryAlias:
    row = RegistryAlias(
        service=service, model=model, alias=alias, version=version, moves=0, seen_at=now
    )
    session.add(row)
    return row


async def move_registry_alias(
    *, session: AsyncSession, seen: RegistryAlias, version: str, now: datetime
) -> bool:
    """Move the baseline on from what `seen` says, unless someone moved it meanwhile."""
    moved = await session.execute(
        update(RegistryAlias)
        .where(
            RegistryAlias.id == seen.id,
            RegistryAlias.version == seen.version,
            RegistryAlias.moves == seen.moves,
        )
        .values(version=version, moves=seen.moves + 1, seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))
