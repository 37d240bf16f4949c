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

    def reading(self) -> AsyncSession:
        """A session for reads; writes go through `sessions.begin()`. On SQLite a session
        outside begin() reads only and does not wait for the write lock."""
        return self.sessions()
