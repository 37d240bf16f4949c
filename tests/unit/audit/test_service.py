"""The audit log only grows: the database refuses to change or remove an entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.audit import service
from bot.context import Context

AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


async def write(ctx: Context, *, incident_id: int, at: datetime, allowed: bool = True) -> None:
    async with ctx.sessions.begin() as session:
        service.record(
            session=session,
            at=at,
            actor="U0ANA0001",
            action="approve",
            playbook="rollback",
            incident_id=incident_id,
            run_id=1,
            allowed=allowed,
            reason="the incident commander",
        )


async def test_entries_are_read_back_by_time_and_incident(ctx: Context) -> None:
    await write(ctx, incident_id=1, at=AT)
    await write(ctx, incident_id=2, at=AT + timedelta(hours=1), allowed=False)
    async with ctx.sessions() as session:
        everything = await service.entries(session=session)
        recent = await service.entries(session=session, since=AT + timedelta(minutes=1))
        second = await service.entries(session=session, incident_id=2)
    assert [(e.incident_id, e.allowed, e.at) for e in everything] == [
        (1, True, AT),
        (2, False, AT + timedelta(hours=1)),
    ]
    assert [e.incident_id for e in recent] == [2] and [e.incident_id for e in second] == [2]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET allowed = NOT allowed",
        "UPDATE audit_log SET reason = 'nothing happened'",
        "DELETE FROM audit_log",
    ],
)
async def test_the_database_refuses_to_change_or_remove_an_entry(
    ctx: Context, statement: str
) -> None:
    await write(ctx, incident_id=1, at=AT)
    with pytest.raises(DBAPIError, match="audit_log is append-only"):
        async with ctx.sessions.begin() as session:
            await session.execute(text(statement))
    async with ctx.sessions() as session:
        [entry] = await service.entries(session=session)
    assert entry.allowed and entry.reason == "the incident commander"


def test_no_code_path_updates_or_deletes_entries() -> None:
    from pathlib import Path

    import bot

    writers = [
        path
        for path in Path(bot.__file__).parent.rglob("*.py")
        if "AuditEntry" in (source := path.read_text())
        and any(verb in source for verb in ("update(", "delete(", ".delete", "DELETE", "UPDATE"))
    ]
    assert writers == []
