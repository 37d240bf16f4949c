"""Locks that last until the current transaction ends."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Made once: every round of a storm's writes takes its groups' locks.
_ONE = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
_ALL = text("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(CAST(:keys AS text[])) k")


async def hold_until_commit(*, session: AsyncSession, key: str) -> None:
    """Serialise transactions that pass the same key, across processes.

    On PostgreSQL a transaction-level advisory lock on the key's hash. On SQLite nothing is
    needed: a write transaction already holds the database's only write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_ONE, {"key": key})


async def hold_all_until_commit(*, session: AsyncSession, keys: Sequence[str]) -> None:
    """`hold_until_commit` for each key, in the order given, in one round trip. Callers that
    may hold several pass them sorted, so two transactions never wait on each other in a
    cycle."""
    if keys and session.get_bind().dialect.name == "postgresql":
        # unnest yields the keys in order, and each row's lock is taken as the row is made.
        await session.execute(_ALL, {"keys": list(keys)})
