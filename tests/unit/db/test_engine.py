"""The SQLite engine: calls made on the loop's thread, writers in turn, readers beside them."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot.db import engine as db_engine
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import upgrade
from tests.polling import eventually


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'firebreak.db'}"
    upgrade(url)
    return url


async def _count(sessions: object) -> int:
    async with sessions() as session:  # type: ignore[operator]
        return int(await session.scalar(text("SELECT count(*) FROM timeline_entries")))


async def test_writers_take_turns_and_readers_do_not_wait(sqlite_url: str) -> None:
    """Two engines on one file in one process (the app's and a test's, say): a second writer
    waits for the first to commit, in the event loop, not inside SQLite; a reader sees the
    last commit while a write transaction is open."""
    first, second = make_engine(sqlite_url), make_engine(sqlite_url)
    writes, other_writes = make_sessions(first), make_sessions(second)
    order: list[str] = []
    try:
        async with writes.begin() as session:
            await session.execute(text("CREATE TABLE marks (who TEXT)"))

        async def mark(sessions: object, who: str, hold: float) -> None:
            async with sessions.begin() as session:  # type: ignore[attr-defined]
                order.append(f"{who} in")
                await session.execute(text("INSERT INTO marks VALUES (:w)"), {"w": who})
                await asyncio.sleep(hold)  # the loop goes on meanwhile
                order.append(f"{who} out")

        holder = asyncio.create_task(mark(writes, "a", 0.3))
        await eventually(lambda: "a in" in order, what="a's write transaction open")
        waiter = asyncio.create_task(mark(other_writes, "b", 0))
        # A moment for b to ask for its turn, so the read below happens beside a waiting writer
        # too (nothing shows b waiting; the order at the end shows it waited).
        await asyncio.sleep(0.05)
        async with other_writes() as session:  # outside begin(): reads beside the write
            assert await session.scalar(text("SELECT count(*) FROM marks")) == 0
        await asyncio.gather(holder, waiter)
        assert order == ["a in", "a out", "b in", "b out"]
        async with writes() as session:  # a session outside begin() only reads
            with pytest.raises(OperationalError, match="readonly"):
                await session.execute(text("INSERT INTO marks VALUES ('c')"))
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_writer_kept_waiting_too_long_is_told_the_database_is_locked(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    engine = make_engine(sqlite_url)
    writes = make_sessions(engine)
    try:
        async with writes.begin():
            with pytest.raises(OperationalError, match="database is locked"):
                async with writes.begin():  # a write nested in a write never gets its turn
                    pass
        assert await _count(writes) == 0  # and the engine is usable after
    finally:
        await engine.dispose()


async def test_a_writer_waits_for_another_process_s_lock_with_the_loop_running(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (here a connection of SQLite's own) holds the write lock: BEGIN
    IMMEDIATE is tried again every LOCK_POLL_S, and the event loop runs meanwhile (waiting
    inside SQLite, it stood still until the busy timeout). Held past the timeout, the writer
    is told the database is locked."""
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_S", 2)
    other = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    engine = make_engine(sqlite_url)
    writes = make_sessions(engine)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        async with writes.begin() as session:
            waited = ticks
            await session.execute(text("DELETE FROM timeline_entries"))
        assert waited >= 10  # about 30 while the other held the lock

        other.execute("BEGIN IMMEDIATE")
        monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
        with pytest.raises(OperationalError, match="database is locked"):
            async with writes.begin():
                pass
        other.execute("COMMIT")
        assert await _count(writes) == 0  # and the engine is usable after
    finally:
        ticker.cancel()
        other.close()
        await engine.dispose()


async def test_a_commit_waits_for_the_disk_off_the_event_loop(sqlite_url: str) -> None:
    """The statements of a transaction run on the loop's thread (bot.db.sqlite_inline), but
    its COMMIT, which waits for an fsync, runs in another: the loop serves requests meanwhile.
    SQLite's trace callback names each statement in the thread that runs it."""
    engine = make_engine(sqlite_url)
    ran: list[tuple[str, int]] = []

    @event.listens_for(engine.sync_engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        sqlite = dbapi_conn.driver_connection._connection  # the sqlite3 connection itself
        sqlite.set_trace_callback(lambda sql: ran.append((sql, threading.get_ident())))

    loop_thread = threading.get_ident()
    try:
        async with make_sessions(engine).begin() as session:
            await session.execute(text("CREATE TABLE marks (who TEXT)"))
            await session.execute(text("INSERT INTO marks VALUES ('a')"))
        threads = {sql.split()[0].upper(): thread for sql, thread in ran}
        assert threads["INSERT"] == loop_thread
        assert threads["COMMIT"] != loop_thread
        async with make_sessions(engine)() as session:  # committed: a new session sees it
            assert await session.scalar(text("SELECT count(*) FROM marks")) == 1
    finally:
        await engine.dispose()


async def test_a_read_session_closes_without_a_turn_of_the_event_loop(sqlite_url: str) -> None:
    """Leaving `async with` on a session closes it there and then: in a storm every turn of
    the loop is tens of milliseconds, and SQLAlchemy's own exit (the close in a task of its
    own) cost a command's ack two of them. A callback scheduled before the read runs only when
    the reading task gives the loop a turn."""
    engine = make_engine(sqlite_url)
    turns: list[str] = []
    try:
        sessions = make_sessions(engine)
        async with sessions() as session:  # the pool's first connection opened beforehand
            await session.scalar(text("SELECT 1"))
        asyncio.get_running_loop().call_soon(turns.append, "the loop turned")
        async with sessions() as session:
            assert await session.scalar(text("SELECT count(*) FROM timeline_entries")) == 0
        assert turns == []
        await asyncio.sleep(0)
        assert turns == ["the loop turned"]  # the callback does run once the task yields
    finally:
        await engine.dispose()
