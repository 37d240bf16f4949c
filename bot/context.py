"""What every flow needs, bundled once by the composition root (bot/app.py).

The context is generic in its chat: each package types the chat it asks for by the capability
ports it declares (bot.incidents.ports.IncidentContext, bot.playbooks.ports.PlaybookContext …),
and `Context[object]` is a flow that needs no chat at all. One Slack adapter serves them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import FirebreakConfig
from bot.db.group_commit import Step
from bot.events import Publisher
from bot.locks import KeyedLocks

ChatT = TypeVar("ChatT", covariant=True)
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Planned:
    """A reminder as planned: due `at` (and every `every` after, if given), under a stable key."""

    key: str
    incident_id: int
    kind: str
    at: datetime
    every: timedelta | None = None


class Reminders(Protocol):
    """Timed nudges that survive restarts."""

    async def plan(self, *, schedule: Sequence[Planned] = (), cancel: Sequence[str] = ()) -> None:
        """Each of `schedule` replaces what its key held (planning it again changes nothing);
        the keys in `cancel` are removed."""


class Writes(Protocol):
    """Small writes, many to a transaction (bot.db.group_commit): each step's answer once the
    transaction holding it is committed."""

    async def __call__(self, step: Step, /) -> Any: ...


@dataclass(frozen=True)
class Context(Generic[ChatT]):
    sessions: async_sessionmaker[AsyncSession]
    config: FirebreakConfig
    chat: ChatT
    reminders: Reminders
    events: Publisher
    clock: Callable[[], datetime] = utcnow
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    # SQLite: the chat's small writes share transactions (see write); None: each its own.
    writes: Writes | None = None

    def reading(self) -> AsyncSession:
        """A session for reads; writes go through `sessions.begin()`. On SQLite a session
        outside begin() reads only and does not wait for the write lock."""
        return self.sessions()

    async def write(self, step: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`step` in a write transaction, committed when this returns.

        With `writes`, in the next of its shared transactions: in a storm the chat's set-up
        steps, each saved before the next Slack call, made a thousand small transactions that
        queued for SQLite's one write turn (bot.db.engine), ahead of intake's. The step shares
        its session with others', so it only writes and reads what it writes; if the shared
        transaction fails, each step is run again alone."""
        if self.writes is None:
            async with self.sessions.begin() as session:
                return await step(session)
        return cast(T, await self.writes(step))
