"""Run ASGI apps on real sockets for scenario tests, and sign Slack requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any, TypeVar

import httpx
import uvicorn

from bot.demo.processes import free_port
from tests.polling import wait_until

__all__ = ["ServerThread", "free_port", "slack_headers"]

T = TypeVar("T")


class ServerThread:
    """uvicorn in a thread with its own event loop, lifespan included."""

    def __init__(self, app: Any, port: int, *, config: uvicorn.Config | None = None) -> None:
        """`config`: uvicorn's, for `app` on 127.0.0.1:`port` (default: uvicorn's defaults)."""
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = config or uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resident: set[asyncio.Task[Any]] = set()  # the tasks running once it started

    def __enter__(self) -> ServerThread:
        self._thread.start()
        wait_until(lambda: self._server.started, timeout=15, what="the server to start")
        self._resident = self.run(_other_tasks)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)

    def _serve(self) -> None:
        # uvicorn.Server.run, keeping the loop for run()
        with asyncio.Runner(loop_factory=self._server.config.get_loop_factory()) as runner:
            self._loop = runner.get_loop()
            runner.run(self._server.serve())

    def run(self, work: Callable[[], Coroutine[Any, Any, T]], *, timeout: float = 10) -> T:
        """`work()` run on the server's event loop (to read its state there); its result."""
        assert self._loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(work(), self._loop).result(timeout)

    def in_flight(self) -> list[str]:
        """The tasks (name and coroutine) started since the server came up that still run:
        requests being answered and the work they left running (Bolt listeners, background
        tasks, Slack deliveries); not those running since start-up (the server, its workers)."""

        async def started_since() -> list[str]:
            return sorted(map(_described, await _other_tasks() - self._resident))

        return self.run(started_since)


async def _other_tasks() -> set[asyncio.Task[Any]]:
    """The loop's unfinished tasks, but the one asking."""
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def _described(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return f"{task.get_name()} ({getattr(coro, '__qualname__', coro)})"


def slack_headers(
    secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Slack's v0 scheme: HMAC-SHA256 of 'v0:{timestamp}:{raw body}' keyed by the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


@cache
def tls() -> ssl.SSLContext:
    """One TLS context for the tests' HTTP clients (verify=tls()): a client given none reads
    the system's CA bundle anew, tens of milliseconds on a slow machine, and the suite makes
    hundreds of clients, though its servers speak plain HTTP."""
    return httpx.create_ssl_context()
