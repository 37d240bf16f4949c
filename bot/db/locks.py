"""Locks that last until the current transaction ends."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Made once: every round of a storm's writes takes its groups' locks.
_ONE = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
# In the order of what is locked, the keys' hashes: keys sorted by themselves could be taken in
# opposite orders by two transactions if two of their hashes collide, and deadlock. The locks
# are taken in an outer query over the sorted hashes, one as each row is read.
_ALL = text(
    "SELECT pg_advisory_xact_lock(h) FROM "
    "(SELECT DISTINCT hashtext(k) AS h FROM unnest(CAST(:keys AS text[])) k ORDER BY h) hashes"
)


async def hold_until_commit(*, session: AsyncSession, key: str) -> None:
    """Serialise transactions that pass the same key, across processes.

    On PostgreSQL a transaction-level advisory lock on the key's hash. On SQLite nothing is
    needed: a write transaction already holds the database's only write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_ONE, {"key": key})


async def hold_all_until_commit(*, session: AsyncSession, keys: Sequence[str]) -> None:
    """`hold_until_commit` for each key, in one round trip, in one order whatever order they
    are given in, so two transactions that hold several never wait on each other in a cycle."""
    if keys and session.get_bind().dialect.name == "postgresql":
        await session.execute(_ALL, {"keys": list(keys)})
