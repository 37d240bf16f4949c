"""What every flow needs, bundled once by the composition root (bot/app.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import FirebreakConfig
from bot.incidents.locks import KeyedLocks
from bot.incidents.ports import Chat, Reminders


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    sessions: async_sessionmaker[AsyncSession]
    config: FirebreakConfig
    chat: Chat
    reminders: Reminders
    clock: Callable[[], datetime] = utcnow
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    # Sessions for reads alone (bot.db.engine.make_readers); without them, reads use `sessions`.
    readers: async_sessionmaker[AsyncSession] | None = None

    def reading(self) -> AsyncSession:
        """A session that only reads: on SQLite it does not wait for the write lock."""
        return (self.readers or self.sessions)()
