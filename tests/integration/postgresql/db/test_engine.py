"""The PostgreSQL engine's pool (the SQLite engine's tests are tests/unit/db/test_engine.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, InterfaceError

from bot.db.engine import IDLE_PING_S, make_engine, make_sessions
from tests.polling import eventually


async def test_connections_opened_for_a_burst_are_kept_for_the_next(db_url: str) -> None:
    # A connection closed and opened again costs a connect and the preparation of every
    # statement it runs: a storm's bursts of chat work must find theirs still open.
    engine = make_engine(db_url)
    opened: list[Any] = []
    event.listen(engine.sync_engine, "connect", lambda conn, _record: opened.append(conn))
    sessions = make_sessions(engine)
    all_in = asyncio.Barrier(15)

    async def hold_one() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            await all_in.wait()  # all 15 connections checked out at once

    try:
        await asyncio.gather(*(hold_one() for _ in range(15)))
        assert len(opened) == 15
        all_in = asyncio.Barrier(15)
        await asyncio.gather(*(hold_one() for _ in range(15)))
        assert len(opened) == 15, "the second burst opened connections of its own"
    finally:
        await engine.dispose()


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class DeadConnection:
    """A pool whose one idle connection the server ended (as after a restart or a failover),
    its engine's clock, and that connection's backend."""

    sessions: Any
    clock: Monotonic
    pid: int

    async def backend(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(text("SELECT pg_backend_pid()")))


@pytest.fixture
async def dead(db_url: str) -> AsyncIterator[DeadConnection]:
    clock = Monotonic()
    engine, other = make_engine(db_url, clock=clock), make_engine(db_url)
    pool = DeadConnection(make_sessions(engine), clock, pid=0)
    pool.pid = await pool.backend()
    gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")

    async def ended() -> bool:
        async with make_sessions(other)() as session:
            return bool(await session.scalar(gone, {"pid": pool.pid}))

    try:
        async with make_sessions(other)() as session:
            stop = text("SELECT pg_terminate_backend(:pid)")
            assert await session.scalar(stop, {"pid": pool.pid})
        await eventually(ended, what=f"backend {pool.pid} to end")
        yield pool
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_connection_idle_a_while_that_the_server_closed_is_replaced_before_use(
    dead: DeadConnection,
) -> None:
    dead.clock.now += IDLE_PING_S + 0.1
    assert await dead.backend() != dead.pid


async def test_a_connection_used_a_moment_ago_is_not_tried_and_a_dead_one_fails_one_use(
    dead: DeadConnection,
) -> None:
    """The trade (as HikariCP's alive-bypass window): no round trip before a connection used
    within IDLE_PING_S, so a server gone within that moment fails the one statement that
    finds out; SQLAlchemy then drops the pool's connections and the next use connects."""
    dead.clock.now += IDLE_PING_S / 2
    with pytest.raises(InterfaceError) as failed:
        await dead.backend()
    assert failed.value.connection_invalidated
    assert await dead.backend() != dead.pid


async def test_a_read_session_runs_each_statement_alone_and_a_write_session_in_one(
    db_url: str,
) -> None:
    # A read session sends no BEGIN and no ROLLBACK: each statement is its own transaction
    # (two transaction ids); begin() keeps one transaction for all its statements.
    engine = make_engine(db_url)
    sessions = make_sessions(engine)
    xid = text("SELECT txid_current()")
    try:
        async with sessions() as session:
            assert await session.scalar(xid) != await session.scalar(xid)
        async with sessions.begin() as session:
            assert await session.scalar(xid) == await session.scalar(xid)
    finally:
        await engine.dispose()


async def test_a_write_session_that_fails_rolls_back_and_its_connection_reads_again(
    db_url: str,
) -> None:
    engine = make_engine(db_url, pool_size=1)
    sessions = make_sessions(engine)
    try:
        async with sessions.begin() as session:
            await session.execute(text("CREATE TABLE marks (mark text PRIMARY KEY)"))
        with pytest.raises(IntegrityError, match="duplicate key"):
            async with sessions.begin() as session:
                await session.execute(text("INSERT INTO marks VALUES ('a')"))
                await session.execute(text("INSERT INTO marks VALUES ('a')"))
        async with sessions() as session:  # the one connection, back in the pool, reads
            assert await session.scalar(text("SELECT count(*) FROM marks")) == 0
    finally:
        await engine.dispose()


async def test_a_read_session_closes_without_a_turn_of_the_event_loop(db_url: str) -> None:
    # Its close has no transaction to roll back, so leaving `async with` waits for nothing.
    engine = make_engine(db_url)
    turns: list[str] = []
    try:
        async with make_sessions(engine)() as session:
            await session.scalar(text("SELECT 1"))
            asyncio.get_running_loop().call_soon(turns.append, "the loop turned")
        assert turns == []
        await asyncio.sleep(0)
        assert turns == ["the loop turned"]
    finally:
        await engine.dispose()
