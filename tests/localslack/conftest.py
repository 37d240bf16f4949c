"""Fixtures for the local Slack tests: a workspace with two people and a way to call it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.localslack import LocalSlackServer, Workspace

TOKEN = "xoxb-local-test"
APP_TOKEN = "xapp-1-local-test"
ALICE = "U0ALICE001"
BOB = "U0BOB00001"

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
