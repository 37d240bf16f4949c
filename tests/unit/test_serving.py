"""uvicorn as `firebreak serve` runs it: a connection must send its request's head in time,
and past the concurrency limit new requests get 503 (bot/serving.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pytest import MonkeyPatch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.serving import MAX_HEAD_BYTES, event_loop, server_config
from tests.polling import wait_until
from tests.servers import ServerThread, free_port

HEAD_TIMEOUT_S = 0.5


async def slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(float(request.query_params.get("s", "0")))
    return PlainTextResponse("done")


APP = Starlette(routes=[Route("/", slow)])


@contextmanager
def served(*, limit: int = 100) -> Iterator[ServerThread]:
    port = free_port()
    config = server_config(
        APP,
        host="127.0.0.1",
        port=port,
        limit_concurrency=limit,
        header_timeout=HEAD_TIMEOUT_S,
        log_level="warning",
        lifespan="off",
    )
    with ServerThread(APP, port, config=config) as server:
        yield server


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False


def connect(port: int, sent: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(0.1)
    if sent:
        sock.sendall(sent)
    return sock


def test_a_connection_that_does_not_finish_its_head_in_time_is_closed() -> None:
    with served() as server:
        silent = connect(server.port)
        trickling = connect(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n")
        with silent, trickling:
            for _ in range(3):  # more bytes of an unfinished head do not restart the clock
                trickling.sendall(b"X")
            wait_until(lambda: closed_by_server(silent), what="the silent one closed")
            wait_until(lambda: closed_by_server(trickling), what="the trickling one closed")
        # A request whose head came in time is answered however long it takes, and the
        # connection then waits for the next one's head like a new connection.
        with httpx.Client(base_url=server.url, timeout=5) as http:
            assert http.get("/", params={"s": HEAD_TIMEOUT_S * 3}).text == "done"
            assert http.get("/").text == "done"


def test_past_the_concurrency_limit_new_requests_get_503() -> None:
    with served(limit=2) as server:
        # Two connections held open (their heads unfinished) fill the limit...
        held = [connect(server.port, b"GET / HTTP/1.1\r\n") for _ in range(2)]
        try:
            busy = httpx.get(f"{server.url}/", timeout=5)
            assert busy.status_code == 503
        finally:
            for sock in held:
                sock.close()
        # ...and once they are gone, requests are answered again.
        wait_until(
            lambda: httpx.get(f"{server.url}/", timeout=5).status_code == 200,
            what="a request answered once the held connections are gone",
        )


def test_a_request_head_over_64_kib_is_refused() -> None:
    """httptools takes a head of any size (uvicorn's h11_max_incomplete_event_size is h11's)."""

    def head(size: int) -> bytes:
        lines = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(size // 110))
        return b"GET / HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n"

    with served() as server:
        for size, status in ((8 * 1024, b"200"), (MAX_HEAD_BYTES + 1024, b"400")):
            with socket.create_connection(("127.0.0.1", server.port)) as sock:
                sock.settimeout(5)
                sock.sendall(head(size))
                assert sock.recv(64).split(b" ")[1] == status, size


def test_serve_runs_on_the_loop_that_answers_ip_addresses_at_once() -> None:
    config = server_config(APP, host="127.0.0.1", port=0, limit_concurrency=10, header_timeout=1)
    assert config.get_loop_factory() is event_loop


def _on_event_loop(check: Callable[[], Awaitable[None]]) -> None:
    loop = event_loop()
    try:
        loop.run_until_complete(check())
    finally:
        loop.close()


def test_an_ip_address_is_looked_up_without_a_turn_of_the_loop() -> None:
    # Not in libuv's threads, which lookups of names share: a callback scheduled before the
    # lookup has not run after it; a name's lookup does give the loop its turn. Without a
    # socket type, as sock_connect asks: uvloop answers only typed lookups of addresses itself.
    async def check() -> None:
        loop = asyncio.get_running_loop()
        turns: list[str] = []
        for address in ("127.0.0.1", "::1", b"10.0.0.7"):
            loop.call_soon(turns.append, "turned")
            found = await loop.getaddrinfo(address, 443)
            assert turns == []
            assert found[0][4][:2] == (address if isinstance(address, str) else "10.0.0.7", 443)
            await asyncio.sleep(0)
            turns.clear()
        loop.call_soon(turns.append, "turned")
        found = await loop.getaddrinfo("localhost", 443, family=socket.AF_INET)
        assert found[0][4] == ("127.0.0.1", 443)
        assert turns == ["turned"]

    _on_event_loop(check)


def test_a_new_connection_looks_its_ip_address_up_at_once(monkeypatch: MonkeyPatch) -> None:
    # uvloop's sock_connect (aiohttp's way to Slack) looks the address up again: with the
    # numeric-host flag, so libc asks no DNS server and nothing can hold it up.
    asked: list[tuple[object, int]] = []
    real = socket.getaddrinfo

    def recorded(host: Any, port: Any, *args: Any) -> Any:
        asked.append((host, args[3] if len(args) > 3 else 0))
        return real(host, port, *args)

    monkeypatch.setattr(socket, "getaddrinfo", recorded)
    listening = socket.create_server(("127.0.0.1", 0))

    async def check() -> None:
        with socket.socket() as client:
            client.setblocking(False)
            await asyncio.get_running_loop().sock_connect(client, listening.getsockname())

    with listening:
        _on_event_loop(check)
    assert asked == [("127.0.0.1", socket.AI_NUMERICHOST)]
