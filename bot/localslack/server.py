"""Serving the local Slack over real HTTP: in a background thread for tests, or in the
foreground for `firebreak localslack`."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.localslack.access import PageAccess, new_key
from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.page import build_page
from bot.localslack.state import Workspace

START_TIMEOUT = 10.0


class LocalSlackServer:
    """The Web API of `workspace` on http://host:port/ (port 0: any free port)."""

    def __init__(self, workspace: Workspace, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.workspace = workspace
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("LocalSlackServer is not started")
        return f"http://{self._host}:{self._port}/"

    def start(self) -> None:
        """Serve in a daemon thread; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("LocalSlackServer is already started")
        # Binding here, not in uvicorn, tells us the port before serving and leaves no race
        # between picking a free port and taking it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_api(self.workspace), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="localslack", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("LocalSlackServer did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    # Socket Mode. These block: call them from a thread whose event loop runs neither this
    # server nor the app under test (from an async test: `await asyncio.to_thread(...)`).

    def socket_send(
        self, kind: str, payload: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any] | None:
        """Deliver a "slash_commands", "interactive" or "events_api" envelope to a connected
        Socket Mode client and wait for its ack. Returns the ack's payload ({} for a bare
        ack) or None if none came within `timeout`; raises RuntimeError if no client
        connected within `timeout`."""
        return self.workspace.sockets.send(kind, payload, timeout=timeout)

    def socket_connected(self, timeout: float = 10.0) -> bool:
        """Wait until a Socket Mode client has been greeted and can get envelopes."""
        return self.workspace.sockets.wait_connected(timeout)

    def socket_disconnect(self, reason: str = "warning") -> int:
        """Send Slack's `disconnect` message (reason "warning", "refresh_requested",
        "link_disabled", ...) to every connected client; returns how many were told."""
        return self.workspace.sockets.disconnect(reason)

    def __enter__(self) -> LocalSlackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def build_standalone(workspace: Workspace, *, access: PageAccess) -> Starlette:
    """The same layout as the embedded bot: the Web API under API_PREFIX, the page at `/`."""
    return Starlette(
        routes=[
            Mount(API_PREFIX, app=build_api(workspace)),
            Mount("/", app=build_page(workspace, access=access)),
        ]
    )


def serve_forever(
    workspace: Workspace, *, host: str, port: int, page_key: str | None = None
) -> None:
    """Run a local Slack in the foreground until interrupted (for `firebreak localslack`).

    Prints where to point FIREBREAK_SLACK_API_URL, and the page's address with its key (made
    now unless given); never a token.
    """
    access = PageAccess.loopback(port=port, key=page_key or new_key(), names=[host])
    print(f"local Slack Web API: http://{host}:{port}{API_PREFIX}/", flush=True)
    print(f"local Slack page:    {access.link(f'http://{host}:{port}')}", flush=True)
    uvicorn.run(
        build_standalone(workspace, access=access), host=host, port=port, log_level="warning"
    )
