"""Group commit: what many callers ask to write while one transaction is under way goes into
the next, one session and one commit for all of them.

A write transaction costs more than its statements: a session, BEGIN, a commit that waits for
the disk and, on SQLite, a turn with the database's only write lock, handed over through the
event loop. A storm asks for thousands of small writes at once (the outbox stores and records
two per Slack call); taken one at a time they queue for that lock, and every request that
writes waits behind the queue.

Each caller is answered after the commit that holds its write, so what was acknowledged is
durable as before. If a group's transaction fails, each of its writes is tried alone, so one
bad write (or a race another transaction won) fails its own caller only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# (session, what was asked, in the order asked) -> one answer for each, in the same order
Write = Callable[[AsyncSession, Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        *,
        sessions: Any,  # async_sessionmaker, or bot.db.engine's turn-taking one for SQLite
        write: Write[T, R],
        alone: Callable[[T], Awaitable[R]] | None = None,
        committed: Callable[[Sequence[T], Sequence[R]], None] | None = None,
        most: int = 64,
        writers: int = 1,
        name: str = "group-commit",
    ) -> None:
        """`write` runs in the group's transaction; `alone` writes one item when the group's
        transaction failed (by default `write` of that item in a transaction of its own).
        `committed` runs once a group is committed, before any of its callers is answered or
        the next group begins (what a process remembers of its own writes, in their order).
        `most` caps a group: its first caller waits for all of it. `writers`: groups written
        at once, each in its own transaction (on PostgreSQL a group's statements wait for the
        network one after another, so more than one keeps the pool's connections at work; on
        SQLite, with its one writer, more would only queue for the write lock)."""
        self._sessions, self._write, self._most, self._name = sessions, write, most, name
        self._alone = alone or self._in_own_transaction
        self._committed = committed
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._most_writers = writers

    async def __call__(self, item: T) -> R:
        """Write `item` in the next group; its answer once that group is committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if len(self._writers) < self._most_writers:
            # A writer under way takes this with its next group; otherwise this one does.
            self._writers.add(asyncio.create_task(self._drain(), name=self._name))
        return await future

    async def _drain(self) -> None:
        taken: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                taken, began = [], False
                try:
                    async with self._sessions.begin() as session:
                        # Taken once the transaction has begun, so what was asked while it
                        # waited for the write lock goes in with it.
                        taken, began = self._take(), True  # none, if other writers took all
                        items = [item for item, _ in taken]
                        answers = await self._write(session, items) if items else []
                except Exception as exc:
                    if not began:
                        # No transaction to be had (the store is gone, or SQLite's write lock
                        # held elsewhere past its timeout): says nothing of any one write, and
                        # trying each alone would wait that long for each in turn.
                        for _, future in self._take():
                            _settle(future, error=exc)
                        continue
                    if not taken:
                        continue
                    log.warning(
                        "%s: a group of %d failed; writing each alone",
                        self._name,
                        len(taken),
                        exc_info=True,
                    )
                    await self._each_alone(taken)
                    continue
                if self._committed is not None and taken:
                    self._committed([item for item, _ in taken], answers)
                for (_, future), answer in zip(taken, answers, strict=True):
                    _settle(future, answer=answer)
                taken = []
        finally:
            # At once, not in a done callback: a caller in between would find no writer free
            # and leave its write queued with nobody to take it.
            self._writers.discard(asyncio.current_task())
            # Cancelled at shutdown: nobody is left waiting for an answer.
            for _, future in taken + self._queue:
                _settle(future, error=RuntimeError(f"{self._name} stopped before writing this"))
            self._queue.clear()

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        taken, self._queue = self._queue[: self._most], self._queue[self._most :]
        return taken

    async def _each_alone(self, taken: list[tuple[T, asyncio.Future[R]]]) -> None:
        for item, future in taken:
            try:
                _settle(future, answer=await self._alone(item))
            except Exception as exc:
                _settle(future, error=exc)

    async def _in_own_transaction(self, item: T) -> R:
        async with self._sessions.begin() as session:
            (answer,) = await self._write(session, [item])
        return answer


def _settle(
    future: asyncio.Future[Any], *, answer: Any = None, error: Exception | None = None
) -> None:
    if future.done():  # the caller went away (its request was cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)


Step = Callable[[AsyncSession], Awaitable[Any]]


def shared_writes(sessions: Any, *, name: str = "shared-writes") -> GroupCommit[Step, Any]:
    """Steps (each a function of the session) written many to a transaction, in order."""

    async def each(session: AsyncSession, steps: Sequence[Step]) -> list[Any]:
        return [await step(session) for step in steps]

    return GroupCommit(sessions=sessions, write=each, name=name)
