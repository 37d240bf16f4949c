"""The Web API over HTTP, driven in-process through httpx's ASGI transport (no sockets).

(Starlette's TestClient would do the same, but warns about httpx on import since 1.x.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.state import Workspace

TOKEN = "xoxb-local-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def client(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://localslack.test")


@pytest.fixture
async def http(ws: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    async with client(build_api(ws)) as http:
        yield http


async def test_form_body(http: httpx.AsyncClient, ws: Workspace) -> None:
    response = await http.post("/conversations.create", data={"name": "inc-1"}, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["channel"]["name"] == "inc-1"
    assert ws.calls[0].args == {"name": "inc-1"}
    assert ws.calls[0].token == TOKEN


async def test_json_body_merged_with_query(
    http: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    response = await http.post(
        f"/chat.postMessage?channel={channel}",
        json={"text": "hi", "blocks": [{"type": "divider"}]},
        headers=AUTH,
    )
    assert response.json()["ok"] is True
    assert ws.messages(channel)[0]["blocks"] == [{"type": "divider"}]


async def test_get_with_query_and_token_argument(
    http: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    response = await http.get("/conversations.info", params={"channel": channel, "token": TOKEN})
    assert response.json()["channel"]["id"] == channel
    assert ws.calls[-1].args == {"channel": channel}  # the token is not an argument
    assert ws.calls[-1].token == TOKEN


async def test_multipart_body(http: httpx.AsyncClient, ws: Workspace) -> None:
    response = await http.post(
        "/conversations.create",
        files={"name": (None, "inc-2"), "is_private": (None, "true")},
        headers=AUTH,
    )
    assert response.json()["channel"]["is_private"] is True


async def test_missing_and_wrong_tokens(http: httpx.AsyncClient, ws: Workspace) -> None:
    assert (await http.post("/auth.test")).json() == {"ok": False, "error": "not_authed"}
    wrong = await http.post("/auth.test", headers={"Authorization": "Bearer xoxb-nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (200, "invalid_auth")


async def test_invalid_json_is_answered_and_recorded(
    http: httpx.AsyncClient, ws: Workspace
) -> None:
    response = await http.post(
        "/chat.postMessage",
        content=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (200, {"ok": False, "error": "invalid_json"})
    assert [(c.method, c.response["error"]) for c in ws.calls] == [
        ("chat.postMessage", "invalid_json")
    ]


async def test_json_that_is_not_an_object(http: httpx.AsyncClient, ws: Workspace) -> None:
    response = await http.post("/auth.test", json=["a"], headers=AUTH)
    assert response.json() == {"ok": False, "error": "json_not_object"}


async def test_unknown_method_is_404(http: httpx.AsyncClient, ws: Workspace) -> None:
    response = await http.post("/chat.shout", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "unknown_method", "req_method": "chat.shout"}


async def test_injected_429_carries_retry_after(http: httpx.AsyncClient, ws: Workspace) -> None:
    ws.fail("auth.test", retry_after=3)
    response = await http.post("/auth.test", headers=AUTH)
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")
    assert response.json() == {"ok": False, "error": "ratelimited"}


async def test_works_mounted_under_a_prefix(ws: Workspace) -> None:
    app = Starlette(routes=[Mount(API_PREFIX, app=build_api(ws))])
    async with client(app) as mounted:
        response = await mounted.post(f"{API_PREFIX}/auth.test", headers=AUTH)
    assert response.json()["user_id"] == "U0FIREBOT"
    assert ws.calls[0].method == "auth.test"
