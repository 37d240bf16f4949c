"""Run ASGI apps on real sockets for scenario tests, and sign Slack requests."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from bot.demo.processes import free_port, wait_until

__all__ = ["ServerThread", "free_port", "slack_headers", "wait_for"]

T = TypeVar("T")


class ServerThread:
    """uvicorn in a thread with its own event loop, lifespan included."""

    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        wait_for(lambda: self._server.started, timeout=15, what="server start")
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def wait_for(predicate: Callable[[], T], *, timeout: float = 10, what: str = "condition") -> T:
    return wait_until(predicate, timeout=timeout, what=what, interval=0.05)


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
