"""Context.write: a step in a write transaction of its own, or in the shared ones (SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.db.group_commit import shared_writes
from bot.incidents import timeline
from bot.incidents.models import TimelineEntry
from tests.domain import incident_with_channel
from tests.statements import commits


def noted(ctx: Context, incident_id: int, text: str) -> Callable[[AsyncSession], Awaitable[str]]:
    """A step that puts `text` on the incident's timeline and answers it."""

    async def step(session: AsyncSession) -> str:
        await timeline.record(
            session=session,
            incident_id=incident_id,
            kind="note",
            text=text,
            actor="firebreak",
            now=ctx.clock(),
        )
        return text

    return step


async def notes(ctx: Context, incident_id: int) -> list[str]:
    async with ctx.reading() as session:
        rows = await session.scalars(
            select(TimelineEntry.text)
            .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "note")
            .order_by(TimelineEntry.id)
        )
        return list(rows)


async def test_without_shared_writes_each_step_is_committed_alone(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    with commits() as committed:
        answers = await asyncio.gather(*(ctx.write(noted(ctx, incident.id, t)) for t in "ab"))
    assert answers == ["a", "b"] and len(committed) == 2
    assert await notes(ctx, incident.id) == ["a", "b"]


async def test_with_shared_writes_steps_asked_together_share_one_commit(ctx: Context) -> None:
    incident = await incident_with_channel(ctx)
    shared = replace(ctx, writes=shared_writes(ctx.sessions))
    with commits() as committed:
        answers = await asyncio.gather(*(shared.write(noted(ctx, incident.id, t)) for t in "abc"))
    assert answers == ["a", "b", "c"] and len(committed) == 1
    assert await notes(ctx, incident.id) == ["a", "b", "c"]
