"""tests/unit/db/test_locks.py on PostgreSQL, and what holds on PostgreSQL only."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.db import locks
from bot.db.engine import make_engine, make_sessions
from tests.polling import eventually
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


async def test_on_postgresql_several_locks_are_taken_in_the_order_of_their_hashes(
    db_url: str,
) -> None:
    """What is locked is a key's hash: taken in the keys' own order, two keys whose hashes
    collide could be taken in opposite orders by two transactions, which then deadlock."""
    blocking, locking = make_engine(db_url), make_engine(db_url)
    try:
        async with make_sessions(blocking).begin() as blocker:
            keys = [f"queue:C{n:03d}" for n in range(20)]
            hashed = dict(
                (
                    await blocker.execute(
                        text("SELECT k, hashtext(k) FROM unnest(CAST(:keys AS text[])) k"),
                        {"keys": keys},
                    )
                ).all()
            )
            # Two keys in their own order whose hashes are in the other: the later hash is held.
            first, second = next(
                (a, b) for a in keys for b in keys if a < b and hashed[a] > hashed[b]
            )
            await locks.hold_until_commit(session=blocker, key=first)
            pid: list[int] = []

            async def take_both() -> None:
                async with make_sessions(locking).begin() as session:
                    pid.append(
                        (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                    )
                    await locks.hold_all_until_commit(session=session, keys=[first, second])

            both = asyncio.create_task(take_both())
            held = text(
                "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) "
                "FROM pg_locks WHERE locktype = 'advisory' AND pid = :pid"
            )

            async def waiting() -> tuple[int, int] | None:
                if not pid:
                    return None
                counts = (await blocker.execute(held, {"pid": pid[0]})).one()
                return (counts[0], counts[1]) if counts[1] else None

            # The smaller hash (the second key's) was taken before the wait for the first's.
            assert await eventually(waiting, what="the wait for the held lock") == (1, 1)
        await asyncio.wait_for(both, 5)
    finally:
        await blocking.dispose()
        await locking.dispose()
