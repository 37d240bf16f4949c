"""Socket Mode: Slack delivers commands, clicks and events over a WebSocket the bot opens, for
workspaces that cannot reach the bot over HTTP. Webhooks and the API still use HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

RETRY_MAX_S = 60.0


class SocketModeLink:
    """Keeps trying to connect until it succeeds; slack_sdk reconnects by itself afterwards."""

    def __init__(self, bolt: AsyncApp, *, app_token: str) -> None:
        self._bolt, self._app_token = bolt, app_token
        self._handler: AsyncSocketModeHandler | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """In the running loop: the handler's aiohttp session binds to it when built."""
        self._handler = AsyncSocketModeHandler(self._bolt, app_token=self._app_token)
        self._task = asyncio.create_task(self._connect(self._handler), name="slack-socket-mode")

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        wait = 1.0
        while True:
            try:
                await handler.connect_async()
            except Exception as exc:
                # Slack may be unreachable at start; keep serving webhooks and try again.
                log.warning(
                    "Socket Mode connection failed (%s); retrying in %.0fs",
                    type(exc).__name__,
                    wait,
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MAX_S)
            else:
                log.info("connected to Slack in Socket Mode")
                return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._handler is not None:
            with contextlib.suppress(Exception):
                await self._handler.close_async()
