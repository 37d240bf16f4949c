"""Async engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db import sqlite_inline

SQLITE_BUSY_TIMEOUT_S = 30
PG_POOL_SIZE = 30  # a serving process's PostgreSQL connections, kept once opened (make_engine)
# How often a writer tries again for SQLite's write lock while another process holds it (for a
# commit's few milliseconds, mostly its fsync).
LOCK_POLL_S = 0.001
# A PostgreSQL connection back in the pool for longer than this is tried before its next use
# (as HikariCP's aliveBypassWindowMs, whose default is also 500 ms).
IDLE_PING_S = 0.5
_RETURNED = "firebreak_returned_at"  # the pool record's info key: when it came back
READS_ONLY = "firebreak_reads_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    pool_size: int = PG_POOL_SIZE,
    **kwargs: Any,
) -> AsyncEngine:
    """`clock`: monotonic seconds, for how long a PostgreSQL connection has been idle;
    `pool_size`: PostgreSQL's connections kept."""
    if not is_sqlite(url):
        # A storm's chat work holds many connections at once; with SQLAlchemy's default 5 + 10
        # a `/incident` command waited behind it for one (bench/storm.py --postgres: ack p99
        # 800-970 ms). All 30 are kept once opened, none overflow: an overflow connection is
        # closed when it comes back, and its successor pays a connect and prepares every
        # statement again (with 10 + 20, that storm prepared its 47 statements 14,000 times
        # and cost 3.1-3.3 ms of CPU a notification; with 30 kept, 1,200 and 1.1-1.5 ms).
        # 30 at most a replica (PG_POOL_SIZE; its chat process, if any, takes half of them):
        # PostgreSQL's default 100 leaves room for three replicas and the CLI.
        options = {"pool_size": pool_size, "max_overflow": 0, **kwargs}
        engine = create_async_engine(url, **options)
        _ping_on_checkout(engine, clock=clock)
        return engine
    database = make_url(url).database or ""
    engine = create_async_engine(
        url,
        async_creator=sqlite_inline.connector(database, timeout=SQLITE_BUSY_TIMEOUT_S),
        **kwargs,
    )
    _serialise_sqlite_writes(engine)
    return engine


def _ping_on_checkout(engine: AsyncEngine, *, clock: Callable[[], float]) -> None:
    """A pooled connection idle for more than IDLE_PING_S is tried before use, and replaced if
    the server closed it (a restart, a failover): one round trip, a simple query. SQLAlchemy's
    own pre-ping makes it three on asyncpg (BEGIN, the query, ROLLBACK, for PgBouncer's sake),
    and with a session per read that was 5% of the serve process's CPU in a storm
    (bench.storm --postgres). One used moments ago is not tried: in a storm that was a round
    trip before every transaction and every read, each waiting a turn of the busy event loop.
    If the server went away within that moment, the statement fails and SQLAlchemy drops the
    pool's connections, so the next use connects afresh (a failed round of intake writes each
    of its notifications again, alone: bot.db.group_commit)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED] = clock()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and clock() - returned <= IDLE_PING_S:
            return
        try:
            dbapi_conn.run_async(lambda conn: conn.execute("SELECT 1"))
        except Exception as exc:
            # The pool drops it and hands out a new connection (up to three tries).
            raise DisconnectionError(f"connection closed: {type(exc).__name__}") from exc


def _serialise_sqlite_writes(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN.

    With the default deferred BEGIN, two transactions that both read and then write deadlock
    and one fails at once with "database is locked", whatever the busy timeout. BEGIN IMMEDIATE
    makes the second wait its turn instead. WAL keeps readers off the writer's back.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only session (outside begin()) needs no write lock: in WAL mode it reads its
        # snapshot beside the writer. query_only makes a write slipped into one fail loudly.
        reads_only = bool(conn.get_execution_options().get(READS_ONLY))
        sqlite = conn.connection.driver_connection  # straight to SQLite: a BEGIN per session
        known = conn.connection.info  # this DBAPI connection's; saves a PRAGMA per BEGIN
        if known.get("query_only") is not reads_only:
            sqlite.run(f"PRAGMA query_only={int(reads_only)}")
            # A writer does not wait inside SQLite for another process's write lock: that
            # would stop the event loop (bot.db.sqlite_inline); _InTurn tries again instead.
            sqlite.run(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000 if reads_only else 0}")
            known["query_only"] = reads_only
        sqlite.run("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return _TakingTurns(engine, os.path.abspath(engine.url.database or ""))
    return _ReadingEachStatement(engine)


# One write turn per event loop and database file, shared by every engine and session
# factory on it.
_turns: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = WeakKeyDictionary()


class _ClosingInPlace(AsyncSession):
    """A read session whose `async with` closes it in the task that used it.

    SQLAlchemy closes a session leaving `async with` in a task of its own, awaited behind a
    shield, so that a cancellation cannot cut the close short. Waiting for that task is a turn
    of the event loop, and in a storm a turn is 50-70 ms: an `/incident list` spent about 125 of
    its 150 ms to the ack closing its two reads (bench.storm, timed in the serve process). A read
    session's close waits for nothing (SQLite: bot.db.sqlite_inline runs a rollback and the
    pool's check-in at once; PostgreSQL: _ReadingEachStatement leaves no transaction to roll
    back), so nothing can cancel it partway and it needs no task."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()


class _ReadingEachStatement(async_sessionmaker[AsyncSession]):
    """PostgreSQL: a session opened without begin() reads, each statement on its own
    (autocommit), so it sends no BEGIN before its first read and no ROLLBACK when it closes.
    Each of those is a round trip, and in a storm a round trip waits a turn of the event loop
    for its answer: they were 4 of an `/incident list`'s 8 (two reads, each also pinging its
    connection at checkout), and its closes waited a task each. Under READ COMMITTED, the
    default, each statement of a transaction sees its own snapshot anyway, so reads lose
    nothing. Writes go through begin(), in a transaction as before."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(
            engine.execution_options(isolation_level="AUTOCOMMIT"),
            class_=_ClosingInPlace,
            expire_on_commit=False,
        )
        self._writes = async_sessionmaker(engine, expire_on_commit=False)

    def begin(self) -> Any:
        return self._writes.begin()


class _TakingTurns(async_sessionmaker[AsyncSession]):
    """SQLite lets one transaction write at a time, and this process's SQLite calls run on
    the event loop's thread (bot.db.sqlite_inline): a writer waiting inside SQLite for the
    lock would stop the loop, and with it the transaction holding the lock. So writes happen
    only in begin(), whose sessions wait their turn here, first come first served, before
    they begin; a session opened without begin() reads only (no write lock, no turn)."""

    def __init__(self, engine: AsyncEngine, database: str) -> None:
        super().__init__(
            engine.execution_options(**{READS_ONLY: True}),
            class_=_ClosingInPlace,
            expire_on_commit=False,
        )
        self._writes = async_sessionmaker(engine, expire_on_commit=False)  # _InTurn closes them
        self._database = database

    def begin(self) -> Any:
        turns = _turns.setdefault(asyncio.get_running_loop(), {})
        return _InTurn(turns.setdefault(self._database, asyncio.Lock()), self._writes)


class _InTurn:
    """A write session and its transaction, opened in turn and closed before the next."""

    def __init__(self, turn: asyncio.Lock, writes: async_sessionmaker[AsyncSession]) -> None:
        self._turn, self._writes = turn, writes

    async def __aenter__(self) -> AsyncSession:
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_S):
                await self._turn.acquire()
        except TimeoutError:
            # As SQLite's own busy timeout would have said; the API answers it with a 503.
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            ) from None
        try:
            await self._begin(deadline=asyncio.get_running_loop().time() + SQLITE_BUSY_TIMEOUT_S)
        except BaseException:
            self._turn.release()
            raise
        return self._session

    async def _begin(self, *, deadline: float) -> None:
        """Begin, taking SQLite's write lock now. While another process holds it (the chat
        process, a CLI command), BEGIN IMMEDIATE fails at once (busy_timeout 0 on a writing
        connection) and is tried again every LOCK_POLL_S, the event loop answering
        meanwhile; after SQLITE_BUSY_TIMEOUT_S the error goes to the caller."""
        while True:
            self._session = self._writes()
            self._transaction = self._session.begin()
            await self._transaction.__aenter__()
            try:
                await self._session.connection()  # BEGIN IMMEDIATE (_serialise_sqlite_writes)
                return
            except sqlite3.OperationalError as exc:  # from the begin hook, as SQLite said it
                await self._session.close()
                if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                    # As SQLAlchemy wraps a statement's error: the API answers it with a 503.
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            await asyncio.sleep(LOCK_POLL_S)

    async def __aexit__(self, *exc: Any) -> None:
        try:
            try:
                await self._transaction.__aexit__(*exc)  # commits, or rolls back on an error
            finally:
                await self._session.close()
        finally:
            self._turn.release()
