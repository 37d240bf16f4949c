"""Socket Mode: Slack pushes envelopes to the app over a WebSocket and the app acks each one.

`SocketHub` is one workspace's side of it: the one-time tickets apps.connections.open hands
out, the connected clients and the acks they send back. build_api serves the WebSocket and
feeds the hub; tests deliver envelopes from their own thread through LocalSlackServer.

Protocol (docs.slack.dev "Using Socket Mode", slack_sdk.socket_mode): the server greets each
connection with `hello`, sends envelopes `{envelope_id, type, payload,
accepts_response_payload}` and reads acks `{envelope_id, payload?}`; `disconnect` asks the
client to fetch a new URL and reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

KINDS = frozenset({"slash_commands", "interactive", "events_api"})
HOST = "localslack"
CONNECTION_TIME_S = 3600
# With `debug_reconnects=true` in the URL Slack shortens the connection's life to test reconnects.
DEBUG_CONNECTION_TIME_S = 360
# How long a blocking caller waits past its own timeout for the server loop to answer.
_GRACE_S = 2.0

Send = Callable[[str], Awaitable[None]]


class ClientGone(Exception):
    """The client's WebSocket closed before a message could be sent."""


class Connection:
    """One connected client. Its pending acks belong to the event loop serving it."""

    def __init__(self, send: Send, loop: asyncio.AbstractEventLoop) -> None:
        self._send = send
        self.loop = loop
        self._sending = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[dict[str, Any] | None]] = {}
        self.draining = False  # told to disconnect: gets no more envelopes

    async def send_json(self, message: dict[str, Any]) -> None:
        async with self._sending:
            await self._send(json.dumps(message, ensure_ascii=False))

    async def deliver(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Send the envelope and wait for its ack: the ack's payload ({} if it had none), or
        None if the client went away first."""
        envelope_id = envelope["envelope_id"]
        ack: asyncio.Future[dict[str, Any] | None] = self.loop.create_future()
        self._pending[envelope_id] = ack
        try:
            await self.send_json(envelope)
            return await ack
        except ClientGone:
            return None
        finally:
            self._pending.pop(envelope_id, None)

    def received(self, text: str) -> None:
        """A text frame from the client; acks settle their envelope, anything else is ignored."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
            return
        ack = self._pending.get(message["envelope_id"])
        if ack is not None and not ack.done():
            payload = message.get("payload")
            ack.set_result(copy.deepcopy(payload) if isinstance(payload, dict) else {})

    def closed(self) -> None:
        for ack in self._pending.values():
            if not ack.done():
                ack.set_result(None)


class SocketHub:
    """Tickets and connections of one workspace; every method is safe from any thread."""

    def __init__(self, *, app_id: str) -> None:
        self.app_id = app_id
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._connections: list[Connection] = []
        self._turn = 0
        self._started = time.strftime("%Y-%m-%d %H:%M:%S")

    # apps.connections.open and the WebSocket route

    def open_url(self, socket_url: str) -> str:
        """A WebSocket URL with a fresh one-time ticket, as apps.connections.open answers."""
        ticket = secrets.token_urlsafe(16)
        with self._changed:
            self._tickets.add(ticket)
        return f"{socket_url}?ticket={ticket}"

    def redeem(self, ticket: str | None) -> bool:
        with self._changed:
            if ticket is None or ticket not in self._tickets:
                return False
            self._tickets.remove(ticket)
            return True

    async def attach(self, send: Send, *, debug_reconnects: bool = False) -> Connection:
        """Greet a client whose ticket was good, then start delivering envelopes to it."""
        connection = Connection(send, asyncio.get_running_loop())
        with self._changed:
            others = len(self._live())
        await connection.send_json(self._hello(others + 1, debug_reconnects))
        # Registered only once hello is out, so no envelope can overtake it.
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        return connection

    def detach(self, connection: Connection) -> None:
        with self._changed:
            if connection in self._connections:
                self._connections.remove(connection)
            self._changed.notify_all()
        connection.closed()

    # for tests, from a thread other than the one serving the WebSocket

    def count(self) -> int:
        """Connections that get envelopes: greeted and not told to disconnect."""
        with self._changed:
            return len(self._live())

    def wait_connected(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._live()), timeout)

    def send(
        self, kind: str, payload: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any] | None:
        """Deliver one envelope to a connected client (waiting up to `timeout` for one) and
        return its ack's payload: {} for a bare ack, None when no ack came in time."""
        if kind not in KINDS:
            raise ValueError(f"unknown envelope type {kind!r}; expected one of {sorted(KINDS)}")
        deadline = time.monotonic() + timeout
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._live()), timeout):
                raise RuntimeError("no Socket Mode client is connected")
            live = self._live()
            # Slack spreads envelopes over an app's connections; round robin is one such spread.
            connection = live[self._turn % len(live)]
            self._turn += 1
        _refuse_own_loop(connection.loop)
        remaining = max(0.0, deadline - time.monotonic())
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(connection.deliver(_envelope(kind, payload)), remaining),
            connection.loop,
        )
        try:
            # The grace covers a serving loop that is stuck or gone and never answers.
            return future.result(remaining + _GRACE_S)
        except TimeoutError:
            future.cancel()
            return None

    def disconnect(self, reason: str = "warning") -> int:
        """Send Slack's `disconnect` message to every live connection; they get no more
        envelopes. Returns how many were told. The client closes the socket itself."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}
        with self._changed:
            told = self._live()
            for connection in told:
                _refuse_own_loop(connection.loop)
            for connection in told:
                connection.draining = True
            self._changed.notify_all()
        for connection in told:
            future = asyncio.run_coroutine_threadsafe(
                connection.send_json(message), connection.loop
            )
            # A client that already left needs no telling.
            with contextlib.suppress(ClientGone, TimeoutError):
                future.result(_GRACE_S)
        return len(told)

    def _live(self) -> list[Connection]:
        return [c for c in self._connections if not c.draining]

    def _hello(self, num_connections: int, debug_reconnects: bool) -> dict[str, Any]:
        lifetime = DEBUG_CONNECTION_TIME_S if debug_reconnects else CONNECTION_TIME_S
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {
                "host": HOST,
                "started": self._started,
                "build_number": 1,
                "approximate_connection_time": lifetime,
            },
            "connection_info": {"app_id": self.app_id},
        }


def _envelope(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "envelope_id": str(uuid.uuid4()),
        "type": kind,
        "payload": copy.deepcopy(payload),
    }
    if kind == "events_api":
        # Events may be redelivered; Slack numbers the attempts, a first one being 0 with no
        # reason. Only commands and interactions can carry a response in their ack.
        envelope.update(accepts_response_payload=False, retry_attempt=0, retry_reason="")
    else:
        envelope["accepts_response_payload"] = True
    return envelope


def _refuse_own_loop(loop: asyncio.AbstractEventLoop) -> None:
    # Blocking on the loop that must do the sending could only end in a timeout.
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    if running is loop:
        raise RuntimeError(
            "the Socket Mode helpers block; call them from another thread (asyncio.to_thread)"
        )
