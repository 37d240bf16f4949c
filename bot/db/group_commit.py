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
Taken = list[tuple[Any, "asyncio.Future[Any]"]]  # what a round took: each item, its caller


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
        rounds: Rounds | None = None,
    ) -> None:
        """`write` runs in the group's transaction; `alone` writes one item when the group's
        transaction failed (by default `write` of that item in a transaction of its own).
        `committed` runs once a group is committed, before any of its callers is answered or
        the next group begins (what a process remembers of its own writes, in their order).
        `most` caps a group: its first caller waits for all of it. `writers`: groups written
        at once, each in its own transaction (on PostgreSQL a group's statements wait for the
        network one after another, so more than one keeps the pool's connections at work; on
        SQLite, with its one writer, more would only queue for the write lock).
        `rounds`: a writer shared with other group commits, whose groups go into the same
        transactions (then `writers` is the shared writer's); by default its own."""
        self._sessions, self._write, self._most, self.name = sessions, write, most, name
        self._alone = alone or self._in_own_transaction
        self._committed = committed
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._rounds = rounds or Rounds(sessions=sessions, writers=writers, name=name)
        self._rounds.join(self)

    async def __call__(self, item: T) -> R:
        """Write `item` in the next group; its answer once that group is committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._rounds.wake()
        return await future

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        taken, self._queue = self._queue[: self._most], self._queue[self._most :]
        return taken

    async def _written(self, session: AsyncSession, taken: Taken) -> Sequence[R]:
        return await self._write(session, [item for item, _ in taken]) if taken else []

    def _answer(self, taken: Taken, answers: Sequence[R]) -> None:
        if self._committed is not None and taken:
            self._committed([item for item, _ in taken], answers)
        for (_, future), answer in zip(taken, answers, strict=True):
            _settle(future, answer=answer)

    async def _each_alone(self, taken: Taken) -> None:
        for item, future in taken:
            try:
                _settle(future, answer=await self._alone(item))
            except Exception as exc:
                _settle(future, error=exc)

    async def _in_own_transaction(self, item: T) -> R:
        async with self._sessions.begin() as session:
            (answer,) = await self._write(session, [item])
        return answer

    def _take_all(self) -> Taken:
        taken, self._queue = self._queue, []
        return taken


class Rounds:
    """The writer of one or more group commits: each round is one transaction holding what
    all of them were asked since the last (up to each one's `most`).

    On SQLite, with its one write turn a process, intake's notifications, the outbox's stores
    and records and the chat's set-up steps each had a writer of their own, and their
    transactions queued for the turn one after another: in a storm it was held all the time,
    mostly by commits waiting for a busy loop to resume them (bench.storm). One writer for all
    makes one transaction of what would have been several."""

    def __init__(self, *, sessions: Any, writers: int = 1, name: str = "group-commit") -> None:
        self._sessions, self._name, self._most_writers = sessions, name, writers
        self._lanes: list[GroupCommit[Any, Any]] = []
        self._writers: set[asyncio.Task[None]] = set()

    def join(self, lane: GroupCommit[Any, Any]) -> None:
        self._lanes.append(lane)

    def wake(self) -> None:
        if len(self._writers) < self._most_writers:
            # A writer under way takes what was asked with its next round; otherwise this one.
            self._writers.add(asyncio.create_task(self._drain(), name=self._name))

    async def _drain(self) -> None:
        taken: list[tuple[GroupCommit[Any, Any], Taken]] = []
        try:
            while any(lane._queue for lane in self._lanes):
                taken, began = [], False
                try:
                    async with self._sessions.begin() as session:
                        # Taken once the transaction has begun, so what was asked while it
                        # waited for the write lock goes in with it.
                        taken = [(lane, lane._take()) for lane in self._lanes]  # none, if
                        began = True  # other writers took all
                        answers = [await lane._written(session, items) for lane, items in taken]
                except Exception as exc:
                    if not began:
                        # No transaction to be had (the store is gone, or SQLite's write lock
                        # held elsewhere past its timeout): says nothing of any one write, and
                        # trying each alone would wait that long for each in turn.
                        for lane in self._lanes:
                            _fail(lane._take_all(), exc)
                        continue
                    if not any(items for _, items in taken):
                        continue
                    log.warning(
                        "%s: a group of %d failed; writing each alone",
                        self._name,
                        sum(len(items) for _, items in taken),
                        exc_info=True,
                    )
                    for lane, items in taken:
                        await lane._each_alone(items)
                    continue
                for (lane, items), written in zip(taken, answers, strict=True):
                    lane._answer(items, written)
                taken = []
        finally:
            # At once, not in a done callback: a caller in between would find no writer free
            # and leave its write queued with nobody to take it.
            self._writers.discard(asyncio.current_task())
            # Cancelled at shutdown: nobody is left waiting for an answer.
            for lane, items in [*taken, *((lane, lane._take_all()) for lane in self._lanes)]:
                _fail(items, RuntimeError(f"{lane.name} stopped before writing this"))


def _fail(taken: Taken, error: Exception) -> None:
    for _, future in taken:
        _settle(future, error=error)


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


def shared_writes(
    sessions: Any, *, name: str = "shared-writes", rounds: Rounds | None = None
) -> GroupCommit[Step, Any]:
    """Steps (each a function of the session) written many to a transaction, in order."""

    async def each(session: AsyncSession, steps: Sequence[Step]) -> list[Any]:
        return [await step(session) for step in steps]

    return GroupCommit(sessions=sessions, write=each, name=name, rounds=rounds)
