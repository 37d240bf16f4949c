"""Transactions that hold the same key go one at a time, on both databases."""

from __future__ import annotations

import asyncio

from bot.db import locks
from bot.db.engine import make_engine, make_sessions


async def test_a_second_holder_of_a_key_waits_for_the_first_to_commit(db_url: str) -> None:
    # Two engines stand for two processes: no pool or in-process lock is shared by intent.
    first, second = make_engine(db_url), make_engine(db_url)
    order: list[str] = []
    try:
        async with make_sessions(first).begin() as session:
            await locks.hold_until_commit(session=session, key="group:alertmanager:{}")

            async def other() -> None:
                async with make_sessions(second).begin() as session:
                    await locks.hold_until_commit(session=session, key="group:alertmanager:{}")
                    order.append("second holds it")

            waiting = asyncio.create_task(other())
            await asyncio.sleep(0.3)  # the first holds the key a while: `other` has to wait
            order.append("first commits")
        await asyncio.wait_for(waiting, 10)
    finally:
        await first.dispose()
        await second.dispose()
    assert order == ["first commits", "second holds it"]
