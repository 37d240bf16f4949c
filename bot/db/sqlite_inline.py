"""aiosqlite's connection, with every SQLite call made where it is asked for.

aiosqlite hands each call to a thread of its own and the answer back through the event loop:
about 0.2 ms and a turn of the loop per statement, where SQLite itself answers a small
indexed query in microseconds. Under an alert storm the loop is busy, so every statement of a
write transaction waited behind the other requests while holding SQLite's only write lock,
and the whole bot wrote at the pace of the loop's turns (docs/benchmarks.md has the numbers).
Here SQLAlchemy's aiosqlite dialect runs unchanged on a connection whose calls complete at once.

Commits are the exception: they wait for the disk, so they go to a thread (`commit`).

Safe because no other call made here waits long: this process's writers take turns before they
begin (bot.db.engine), and BEGIN IMMEDIATE does not wait for another process's write (the chat
process's, a CLI command's): it fails at once and is tried again after an await (_InTurn);
readers in WAL mode do not wait at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        if self._connection is None:
            self._connection = self._connector()
        return self._itself().__await__()

    async def _itself(self) -> InlineConnection:
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def commit(self) -> None:
        # The one call that waits for the disk (an fsync: ~3 ms here with synchronous=FULL)
        # runs in a thread, so the loop goes on answering requests meanwhile. Nobody else uses
        # this connection until it returns (its session awaits it), and this process's next
        # writer waits its turn (bot.db.engine) until the session is closed after it.
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        await asyncio.to_thread(self._connection.commit)

    def run(self, sql: str) -> None:
        """A statement with no answer (BEGIN, a PRAGMA), without SQLAlchemy's round of
        bookkeeping around it."""
        if self._connection is None:
            raise ValueError("Connection closed")
        self._connection.execute(sql)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


class _RunNow:
    """In place of the worker thread's queue, which SQLAlchemy's isolation-level setter
    uses directly: the call runs as it is put."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread would
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


def connector(database: str, *, timeout: float) -> Callable[[], Any]:
    """For create_async_engine(async_creator=...)."""

    async def connect() -> InlineConnection:
        return await InlineConnection(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False)
        )

    return connect
