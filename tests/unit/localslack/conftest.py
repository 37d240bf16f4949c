"""Fixtures for the local Slack tests: a workspace with two people, a way to call it, and a
browser on its page with a fake app installed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.localslack.access import PageAccess
from bot.localslack.api import API_PREFIX, build_api
from bot.localslack.page import build_page
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace

from .fakeapp import APP_URL, SECRET, FakeApp

TOKEN = "xoxb-local-test"
APP_TOKEN = "xapp-1-local-test"
ALICE = "U0ALICE001"
BOB = "U0BOB00001"
SITE = "http://localslack.test"
# The page answers SITE's host only, and only requests carrying its key (a cookie).
PAGE = PageAccess(key="test-page-key-0123456789", hosts=frozenset({"localslack.test"}))
KEYED = {PAGE.cookie: PAGE.key}

Call = Callable[..., dict[str, Any]]


@pytest.fixture
def ws() -> Workspace:
    workspace = Workspace(tokens=[TOKEN], app_tokens=[APP_TOKEN])
    workspace.add_user(ALICE, "alice", email="alice@example.com", real_name="Alice Liddell")
    workspace.add_user(BOB, "bob")
    return workspace


@pytest.fixture
def call(ws: Workspace) -> Call:
    """Call a method with the valid token; returns the JSON body of an HTTP 200 answer."""

    def _call(method: str, **args: Any) -> dict[str, Any]:
        status, _, body = ws.dispatch(method, args, TOKEN)
        assert status == 200, (status, body)
        return body

    return _call


@pytest.fixture
def channel(call: Call) -> str:
    """The id of a fresh public channel the bot created (and so is in)."""
    body = call("conversations.create", name="inc-1-model-latency")
    assert body["ok"], body
    return str(body["channel"]["id"])


@pytest.fixture
def server(ws: Workspace) -> Iterator[LocalSlackServer]:
    """`ws` served over real HTTP on a free port, in a background thread."""
    with LocalSlackServer(ws) as running:
        yield running


@pytest.fixture
def app() -> FakeApp:
    """The app the page sends commands and clicks to (answers an empty 200 by default)."""
    return FakeApp()


@pytest.fixture
async def browser(ws: Workspace, app: FakeApp) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the page, with `app` installed; the Web API (response_urls) is served
    by the same in-process site, as in the embedded bot."""
    ws.install_app(request_url=APP_URL, signing_secret=SECRET)
    page = build_page(ws, access=PAGE, transport=httpx.MockTransport(app.handle))
    site = Starlette(routes=[Mount(API_PREFIX, app=build_api(ws)), Mount("/", app=page)])
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(
        transport=transport, base_url=SITE, follow_redirects=True, cookies=KEYED
    ) as client:
        yield client
