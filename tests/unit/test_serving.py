"""uvicorn as `firebreak serve` runs it: a connection must send its request's head in time,
and past the concurrency limit new requests get 503 (bot/serving.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.serving import MAX_HEAD_BYTES, server_config
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
