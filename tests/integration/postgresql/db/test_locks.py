"""tests/unit/db/test_locks.py on PostgreSQL, and what holds on PostgreSQL only."""

from __future__ import annotations

import asyncio

from bot.db import locks
from bot.db.engine import make_engine, make_sessions
from tests.unit.db.test_locks import *  # noqa: F403


# SQLite has one writer at a time whatever the key, so this holds on PostgreSQL only.
async def test_on_postgresql_other_keys_do_not_wait(db_url: str) -> None:
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        async with make_sessions(first).begin() as session:
            await locks.hold_until_commit(session=session, key="group:alertmanager:{a}")
            async with make_sessions(second).begin() as other:
                await asyncio.wait_for(
                    locks.hold_until_commit(session=other, key="group:alertmanager:{b}"), 5
                )
    finally:
        await first.dispose()
        await second.dispose()
