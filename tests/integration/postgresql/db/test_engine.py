"""The PostgreSQL engine's pool (the SQLite engine's tests are tests/unit/db/test_engine.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from bot.db.engine import make_engine, make_sessions


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


async def test_a_connection_the_server_closed_is_replaced_before_use(db_url: str) -> None:
    # As after a restart or a failover: every pooled connection is dead.
    engine, other = make_engine(db_url), make_engine(db_url)
    sessions = make_sessions(engine)
    try:
        async with sessions() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        async with make_sessions(other)() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with sessions() as session:
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await other.dispose()


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
