"""How `firebreak serve` runs uvicorn: a bound on concurrent work, a deadline for each
request's head, and an event loop that answers lookups of an IP address at once (`event_loop`).

What uvicorn (0.54, its httptools and h11 protocols) offers, and what it does not:

- `limit_concurrency`: once the open connections, or the requests being answered, reach the
  limit, a request whose head has arrived is answered 503 at once instead of being run. It
  never closes a connection, so by itself it turns a slow-headers flood into 503s for
  everyone: hence the deadline below.
- `timeout_keep_alive`: closes a connection idle *between* requests, armed only when a
  response completes and cancelled by any byte received. A connection that sends nothing
  after opening, or trickles a head one byte at a time, is never timed out by it.
- `h11_max_incomplete_event_size` (h11 protocol only; h11's default 16 KiB): how many bytes
  of an unfinished head are buffered before the request is refused. A size bound, not a time
  bound; httptools (used when installed, as here) ignores it and takes a head of any size
  (5 MB of headers were answered 200).
- Nothing times a request's head (uvicorn's "--timeout-request-start" is an open wish,
  encode/uvicorn#157). `HeadDeadline` adds one: a connection must complete a request's head
  within `header_timeout` of opening, or of its previous response; else it is closed. A
  request being answered, a slow body upload once the head is in, and a WebSocket are never
  cut. On httptools it also refuses (400) a head over MAX_HEAD_BYTES. A reverse proxy in front
  (nginx's client_header_timeout, large_client_header_buffers) does the same job.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from functools import cache
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

KEEP_ALIVE_S = 5  # uvicorn's default, said out loud
# A request's line and headers, at most (Slack's and Alertmanager's are ~1-2 KiB; nginx's
# large_client_header_buffers default allows 32 KiB).
MAX_HEAD_BYTES = 64 * 1024


def event_loop() -> asyncio.AbstractEventLoop:
    """The serve process's event loop (uvicorn's `loop`): uvloop's, as uvicorn's "auto" picks,
    except that a lookup of an IP address is answered at once, not in libuv's pool of four
    threads. uvloop's sock_connect looks up the address it is given again, so every new
    connection (to Slack, say) took a thread of that pool, and lookups of names take them too:
    in a storm, graph lookups of a Prometheus host the DNS server dropped held all four for its
    5 s timeout each (a sixth of 400 lookups here), and new connections to Slack waited behind
    them until their bound (bench.storm: incidents announced 5-12 s late).
    asyncio's own loop where uvloop is not installed (Windows)."""
    loop_class = _ip_addresses_at_once()
    return loop_class() if loop_class is not None else asyncio.new_event_loop()


@cache
def _ip_addresses_at_once() -> type[asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None

    class IpAddressesAtOnce(uvloop.Loop):
        async def getaddrinfo(
            self,
            host: str | bytes | None,
            port: str | bytes | int | None,
            *,
            family: int = 0,
            type: int = 0,
            proto: int = 0,
            flags: int = 0,
        ) -> list[Any]:
            if not _is_ip_address(host):
                return await super().getaddrinfo(
                    host, port, family=family, type=type, proto=proto, flags=flags
                )
            # AI_NUMERICHOST: libc parses the address and asks no one, so it cannot block.
            return socket.getaddrinfo(
                host, port, family, type, proto, flags | socket.AI_NUMERICHOST
            )

    return IpAddressesAtOnce


def _is_ip_address(host: str | bytes | None) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not host:
        return False
    try:
        ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 address may name its zone
    except ValueError:
        return False
    return True


def with_head_deadline(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """`base` (uvicorn's httptools or h11 protocol), closing a connection whose next request
    head is not complete `seconds` after it opened or after its previous response."""
    protocol: Any = base

    class HeadDeadline(protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _head_bytes = 0

        # httptools' parser callbacks (h11 bounds a head's size itself and has none of them).
        # An exception in one is a parser error: uvicorn answers 400 and closes.

        def on_message_begin(self) -> None:
            self._head_bytes = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                raise ValueError(f"the request head is over {MAX_HEAD_BYTES} bytes")

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._await_head()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._stop_waiting()
            # The request answered last (None: none yet). A head completing makes a new one.
            before = self.cycle
            self._head_timer = self.loop.call_later(seconds, self._head_overdue, before)

        def _stop_waiting(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_overdue(self, before: Any) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # closed already, or now a WebSocket
            if self.cycle is before and (before is None or before.response_complete):
                self.transport.close()  # no new request head arrived in time

    HeadDeadline.__name__ = f"HeadDeadline{base.__name__}"
    return HeadDeadline


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    limit_concurrency: int,
    header_timeout: float,
    **options: Any,
) -> uvicorn.Config:
    """uvicorn's Config for the bot; `options` go to it as they are (log_level, lifespan…)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=with_head_deadline(AutoHTTPProtocol, header_timeout),
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=KEEP_ALIVE_S,
        loop="bot.serving:event_loop",
        **options,
    )
