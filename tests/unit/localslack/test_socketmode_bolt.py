"""Socket Mode end to end: a Bolt AsyncApp behind slack_bolt's AsyncSocketModeHandler (the
aiohttp SocketModeClient) connected to the stand-in, fed envelopes through LocalSlackServer.

The app runs on the test's event loop, so the blocking server helpers go through
asyncio.to_thread: blocking the loop would keep the app from acking.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace

from .conftest import ALICE, APP_TOKEN, TOKEN


def bolt_app(server: LocalSlackServer) -> AsyncApp:
    client = AsyncWebClient(token=TOKEN, base_url=server.base_url)
    # Socket Mode envelopes are not signed; Bolt skips verification for them.
    return AsyncApp(client=client, signing_secret="unused-in-socket-mode")


@asynccontextmanager
async def socket_mode(app: AsyncApp, server: LocalSlackServer) -> AsyncIterator[None]:
    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    try:
        await handler.connect_async()
        assert await asyncio.to_thread(server.socket_connected, 5)
        yield
    finally:
        await handler.close_async()


def slash_command(ws: Workspace, channel: str, text: str) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": ws.team_id,
        "team_domain": "firebreak-local",
        "channel_id": channel,
        "channel_name": "incidents",
        "user_id": ALICE,
        "user_name": "alice",
        "command": "/incident",
        "text": text,
        "api_app_id": ws.app_id,
        "response_url": "http://localslack.invalid/respond/unused",
        "trigger_id": "123.456.abc",
    }


def app_mention(ws: Workspace, channel: str) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": ALICE,
        "text": f"<@{ws.bot_user_id}> status?",
        "ts": "1700000000.000100",
        "channel": channel,
        "event_ts": "1700000000.000100",
    }
    return {
        "token": "verification-token-unused",
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0LOCAL01",
        "event_time": 1700000000,
        "authorizations": [
            {"team_id": ws.team_id, "user_id": ws.bot_user_id, "is_bot": True},
        ],
    }


async def test_slash_command_ack_comes_back_through_the_socket(
    server: LocalSlackServer, ws: Workspace, channel: str
) -> None:
    app = bolt_app(server)

    @app.command("/incident")
    async def declare(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"Declaring: {command['text']}")

    async with socket_mode(app, server):
        ack = await asyncio.to_thread(
            server.socket_send, "slash_commands", slash_command(ws, channel, "model latency")
        )

    assert ack is not None and ack["text"] == "Declaring: model latency"
    assert [c.method for c in ws.calls_to("apps.connections.open")] == ["apps.connections.open"]
    assert ws.calls_to("apps.connections.open")[0].token == APP_TOKEN


async def test_event_reaches_its_listener(
    server: LocalSlackServer, ws: Workspace, channel: str
) -> None:
    app = bolt_app(server)
    mentioned: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any]) -> None:
        await mentioned.put(event)

    async with socket_mode(app, server):
        ack = await asyncio.to_thread(server.socket_send, "events_api", app_mention(ws, channel))
        event = await asyncio.wait_for(mentioned.get(), 5)

    assert ack == {}
    assert (event["user"], event["channel"]) == (ALICE, channel)


async def test_the_client_reconnects_when_told_to(
    server: LocalSlackServer, ws: Workspace, channel: str
) -> None:
    app = bolt_app(server)

    @app.command("/incident")
    async def declare(ack: Any) -> None:
        await ack(text="still here")

    async with socket_mode(app, server):
        assert await asyncio.to_thread(server.socket_disconnect, "refresh_requested") == 1
        assert await asyncio.to_thread(server.socket_connected, 5)
        ack = await asyncio.to_thread(
            server.socket_send, "slash_commands", slash_command(ws, channel, "")
        )

    assert ack is not None and ack["text"] == "still here"
    assert len(ws.calls_to("apps.connections.open")) == 2  # a fresh URL for the new socket
