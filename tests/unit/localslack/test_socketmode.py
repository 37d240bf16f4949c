"""Socket Mode at the protocol level: apps.connections.open, the ticket, hello, envelopes and
acks, spoken by a bare aiohttp WebSocket so every frame is visible."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.polling import eventually

from .conftest import APP_TOKEN, TOKEN

POLICY_VIOLATION = 1008


def error(ws: Workspace, token: str | None, *, method: str = "apps.connections.open") -> Any:
    status, _, body = ws.dispatch(method, {}, token)
    assert status == 200 and body["ok"] is False, body
    return body["error"]


def test_connections_open_wants_an_app_level_token(ws: Workspace) -> None:
    assert error(ws, None) == "not_authed"
    assert error(ws, TOKEN) == "not_allowed_token_type"
    assert error(ws, "xapp-1-made-up") == "invalid_auth"
    # ...and an app-level token is good for nothing else.
    assert error(ws, APP_TOKEN, method="auth.test") == "not_allowed_token_type"
    assert [c.method for c in ws.calls] == ["apps.connections.open"] * 3 + ["auth.test"]


def test_connections_open_hands_out_one_time_tickets(ws: Workspace) -> None:
    first = ws.dispatch("apps.connections.open", {}, APP_TOKEN)[2]
    second = ws.dispatch("apps.connections.open", {}, APP_TOKEN)[2]

    assert first["ok"] is True
    assert first["url"].startswith("ws://localslack.invalid/socket?ticket=")
    assert first["url"] != second["url"]
    assert ws.sockets.redeem(first["url"].partition("ticket=")[2])
    assert not ws.sockets.redeem(first["url"].partition("ticket=")[2])


async def test_connections_open_over_http_points_at_the_mount(ws: Workspace) -> None:
    app = Starlette(routes=[Mount(API_PREFIX, app=build_api(ws))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localslack.test") as http:
        opened = await http.post(
            f"{API_PREFIX}/apps.connections.open",
            headers={"Authorization": f"Bearer {APP_TOKEN}"},
        )
        as_argument = await http.post(
            f"{API_PREFIX}/apps.connections.open", data={"token": APP_TOKEN}
        )

    url = opened.json()["url"]
    assert url.startswith(f"ws://localslack.test{API_PREFIX}/socket?ticket=")
    # Slack reads the app-level token from the Authorization header only.
    assert as_argument.json() == {"ok": False, "error": "invalid_auth"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def socket_url(server: LocalSlackServer) -> str:
    opened = await AsyncWebClient(base_url=server.base_url).apps_connections_open(
        app_token=APP_TOKEN
    )
    return str(opened["url"])


async def connect(
    http: aiohttp.ClientSession, server: LocalSlackServer
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """A connected socket and the hello it was greeted with."""
    socket = await http.ws_connect(await socket_url(server))
    hello = await socket.receive_json(timeout=5)
    return socket, hello


async def test_hello_then_envelope_then_ack(
    server: LocalSlackServer, ws: Workspace, http: aiohttp.ClientSession
) -> None:
    socket, hello = await connect(http, server)
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": ws.app_id}
    assert hello["debug_info"]["approximate_connection_time"] == 3600
    assert await asyncio.to_thread(server.socket_connected, 5)
    assert ws.socket_connections() == 1

    sending = asyncio.ensure_future(
        asyncio.to_thread(server.socket_send, "interactive", {"type": "view_submission"})
    )
    envelope = await socket.receive_json(timeout=5)
    await socket.send_json(
        {"envelope_id": envelope["envelope_id"], "payload": {"response_action": "clear"}}
    )

    assert await sending == {"response_action": "clear"}
    assert envelope["type"] == "interactive"
    assert envelope["payload"] == {"type": "view_submission"}
    assert envelope["accepts_response_payload"] is True
    await socket.close()


async def test_events_carry_retry_fields_and_a_bare_ack_is_empty(
    server: LocalSlackServer, http: aiohttp.ClientSession
) -> None:
    socket, _ = await connect(http, server)
    sending = asyncio.ensure_future(
        asyncio.to_thread(server.socket_send, "events_api", {"type": "event_callback"})
    )
    envelope = await socket.receive_json(timeout=5)
    await socket.send_str("not json")  # ignored, as is anything that is not an ack
    await socket.send_json({"envelope_id": "someone-else"})
    await socket.send_json({"envelope_id": envelope["envelope_id"]})

    assert await sending == {}
    assert envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    await socket.close()


async def test_no_ack_in_time_is_none(
    server: LocalSlackServer, http: aiohttp.ClientSession
) -> None:
    socket, _ = await connect(http, server)
    ack = await asyncio.to_thread(server.socket_send, "slash_commands", {}, timeout=0.2)
    assert ack is None
    await socket.close()


async def test_a_ticket_works_once(server: LocalSlackServer, http: aiohttp.ClientSession) -> None:
    url = await socket_url(server)
    first = await http.ws_connect(url)
    assert (await first.receive_json(timeout=5))["type"] == "hello"

    for refused_url in (url, url.replace("ticket=", "ticket=x")):
        again = await http.ws_connect(refused_url)
        message = await again.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert (message.data, message.extra) == (POLICY_VIOLATION, "invalid_ticket")
        await again.close()
    await first.close()


async def test_disconnect_stops_deliveries_until_a_client_reconnects(
    server: LocalSlackServer, ws: Workspace, http: aiohttp.ClientSession
) -> None:
    old, _ = await connect(http, server)
    assert await asyncio.to_thread(server.socket_disconnect, "refresh_requested") == 1

    told = await old.receive_json(timeout=5)
    assert told == {
        "type": "disconnect",
        "reason": "refresh_requested",
        "debug_info": {"host": "localslack"},
    }
    assert ws.socket_connections() == 0
    new, hello = await connect(http, server)
    assert hello["num_connections"] == 1
    await old.close()
    assert ws.socket_connections() == 1
    await new.close()
    # The server notices a closed socket on its own thread.
    await eventually(lambda: ws.socket_connections() == 0, what="the new socket closed")


def test_sending_needs_a_client_and_a_known_kind(server: LocalSlackServer) -> None:
    with pytest.raises(ValueError, match="unknown envelope type"):
        server.socket_send("block_actions", {})
    with pytest.raises(RuntimeError, match="no Socket Mode client"):
        server.socket_send("events_api", {}, timeout=0.1)
    assert server.socket_connected(timeout=0.1) is False
    assert server.socket_disconnect() == 0
