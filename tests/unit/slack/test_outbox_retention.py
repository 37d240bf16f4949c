"""Delivered Slack calls are deleted from the outbox once older than the retention; nothing
else is (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import FirebreakConfig
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import upgrade
from bot.slack.outbox import Outbox, OutboxMessage
from bot.slack.outbox.models import FAILED, PENDING, SENDING, SENT
from bot.slack.outbox.worker import PRUNE_BATCH
from tests.fakes import FakeClock
from tests.polling import wait_until
from tests.scenario import clean_env, running_bot

KEEP = timedelta(days=14)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    yield make_sessions(engine)
    await engine.dispose()


def row(state: str, *, created: datetime, sent: datetime | None = None, n: int = 0) -> Any:
    return {
        "queue": f"C0RETAIN{n % 7}",
        "method": "chat_postMessage",
        "args": "{}",
        "state": state,
        "attempts": 1,
        "not_before": created,
        "created_at": created,
        "sent_at": sent,
    }


async def stored(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        counted = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {state: int(n) for state, n in counted.all()}


async def test_delivered_calls_older_than_the_retention_are_pruned(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    now = clock()
    old, recent = now - KEEP - timedelta(hours=1), now - KEEP + timedelta(hours=1)
    many = PRUNE_BATCH * 2 + 5  # more than one batch
    async with sessions.begin() as session:
        await session.execute(
            insert(OutboxMessage),
            [row(SENT, created=old, sent=old, n=n) for n in range(many)]
            + [
                row(SENT, created=old, sent=recent),  # sent lately: kept
                row(SENT, created=old, sent=now - KEEP),  # exactly as old as kept: kept
                row(PENDING, created=old - KEEP),  # never delivered: kept, however old
                row(SENDING, created=old - KEEP),
                row(FAILED, created=old - KEEP),  # the failed count stays right
            ],
        )
    box = Outbox(sessions=sessions, client=cast(AsyncWebClient, None), clock=clock)

    assert await box.prune_sent(older_than=KEEP) == many
    assert await stored(sessions) == {SENT: 2, PENDING: 1, SENDING: 1, FAILED: 1}
    assert await box.prune_sent(older_than=KEEP) == 0  # idempotent: any replica may run it

    clock.advance(hours=2)  # the clock moves on: the recent ones age out in their turn
    assert await box.prune_sent(older_than=KEEP) == 2
    assert await stored(sessions) == {PENDING: 1, SENDING: 1, FAILED: 1}


def test_the_bot_prunes_at_start_with_its_clock_and_retention(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    clock = FakeClock()  # days away from the wall clock: only the bot's clock can age them
    url = f"sqlite+aiosqlite:///{tmp_path / 'firebreak.db'}"
    upgrade(url)
    three_days, an_hour = clock() - timedelta(days=3), clock() - timedelta(hours=1)

    async def seed() -> None:
        engine = make_engine(url)
        async with make_sessions(engine).begin() as session:
            await session.execute(
                insert(OutboxMessage),
                [row(SENT, created=t, sent=t, n=n) for n, t in enumerate((three_days, an_hour))],
            )
        await engine.dispose()

    asyncio.run(seed())
    with running_bot(tmp_path, config, clock=clock, FIREBREAK_OUTBOX_RETENTION="2d") as bot:

        async def seeded() -> list[datetime | None]:
            async with bot.runtime.outbox._sessions() as session:
                kept = await session.scalars(
                    select(OutboxMessage.sent_at).where(OutboxMessage.queue.like("C0RETAIN%"))
                )
                return list(kept)

        # The retention job runs at start (and hourly after): the call sent three days before
        # the bot's clock goes, the one sent an hour before stays.
        wait_until(lambda: bot.server.run(seeded) == [an_hour], what="the start-up prune")
