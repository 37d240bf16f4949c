"""Locks that last until the current transaction ends."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def hold_until_commit(*, session: AsyncSession, key: str) -> None:
    """Serialise transactions that pass the same key, across processes.

    On PostgreSQL a transaction-level advisory lock on the key's hash. On SQLite nothing is
    needed: a write transaction already holds the database's only write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
