"""The PostgreSQL engine's pool (the SQLite engine's tests are tests/unit/db/test_engine.py)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import struct
import termios
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, InternalError
from sqlalchemy.ext.asyncio import AsyncEngine

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


def _unread(fd: int) -> int:
    """Bytes in a socket's receive queue that its owner has not read yet."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def _unacked(fd: int) -> int:
    """Bytes written to a TCP socket that its peer's kernel has not acknowledged yet."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0" * 4))[0]


class HeldClose:
    """A TCP relay to PostgreSQL that passes on everything the server sends on the first
    connection but not its close (later connections are relayed whole).

    A server that ends a session sends an error (FATAL, 57P01) and then closes; a client that
    reads the error before the close finds its connection open but asyncpg's protocol out of
    step (its next statement fails with InternalClientError, not InterfaceError). On a busy
    machine that happens by itself now and then; here it happens every time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.relay: asyncio.Server | None = None
        self.to_client: int | None = None  # the relay's side of the first client (its fd)
        self.server_closed = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.relay = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.relay.sockets[0].getsockname()[1])

    async def _relay(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        server, to_server = await asyncio.open_connection("127.0.0.1", self.port)
        first = not self.writers
        self.writers += [to_client, to_server]
        if first:
            self.to_client = to_client.get_extra_info("socket").fileno()
        upstream = asyncio.create_task(_pass_on(client, to_server))
        await _pass_on(server, to_client)
        if first:
            self.server_closed.set()  # ...and the client's side is left open
        else:
            to_client.close()
        await upstream
        to_server.close()

    async def close(self) -> None:
        """Closes every connection, the held one too, and stops accepting."""
        for writer in self.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if self.relay is not None:
            self.relay.close()


async def _pass_on(source: asyncio.StreamReader, to: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            to.write(data)
            await to.drain()


@dataclass
class DeadConnection:
    """A pool whose one idle connection the server ended (as after a restart or a failover),
    its engine's clock, and that connection's backend."""

    sessions: Any
    clock: Monotonic
    pid: int
    fails_with: type[DBAPIError]  # what its next statement raises, used untried

    async def backend(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(text("SELECT pg_backend_pid()")))


@pytest.fixture(params=[InterfaceError, InternalError], ids=["closed", "error read, close not yet"])
async def dead(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[DeadConnection]:
    """The two ways a client finds its session ended: it has seen the close, or it has read
    the server's error and the close is still to come."""
    held = HeldClose(make_url(db_url).port or 5432) if request.param is InternalError else None
    clock = Monotonic()
    engines: list[AsyncEngine] = []
    try:
        url = db_url
        if held is not None:
            url = make_url(db_url).set(port=await held.start()).render_as_string(False)
        engines += [make_engine(url, clock=clock), make_engine(db_url)]
        engine, other = engines
        opened: list[Any] = []
        event.listen(engine.sync_engine, "connect", lambda conn, _record: opened.append(conn))
        pool = DeadConnection(make_sessions(engine), clock, pid=0, fails_with=request.param)
        pool.pid = await pool.backend()
        driver = opened[0].driver_connection  # asyncpg's connection

        def error_read() -> bool:
            assert held is not None and held.to_client is not None
            client = driver._transport.get_extra_info("socket")  # asyncpg keeps it private
            return held.server_closed.is_set() and not (
                _unacked(held.to_client) + _unread(client.fileno())
            )

        async with make_sessions(other)() as session:
            stop = text("SELECT pg_terminate_backend(:pid)")
            assert await session.scalar(stop, {"pid": pool.pid})
        if held is None:
            await eventually(driver.is_closed, what=f"the client to see {pool.pid} close")
        else:
            await eventually(error_read, what=f"the client to read {pool.pid}'s error")
            assert not driver.is_closed()
        yield pool
    finally:
        # The relay first: a connection still open to it (a test that failed before using
        # the dead one) is closed by the engine only once the relay has closed its side.
        if held is not None:
            await held.close()
        for engine in engines:
            await engine.dispose()


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
    finds out; SQLAlchemy then drops the pool's connections and the next use connects. That
    statement's error is an InterfaceError or an InternalError (asyncpg's InternalClientError)
    as the fixture's two cases show: bot.http.errors answers both as an outage because the
    connection was invalidated."""
    dead.clock.now += IDLE_PING_S / 2
    with pytest.raises(dead.fails_with) as failed:
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
