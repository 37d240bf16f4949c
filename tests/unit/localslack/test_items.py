"""pins.* and reactions.add as answered by Workspace.dispatch."""

from __future__ import annotations

from typing import Any

import pytest

from bot.localslack.state import Workspace

from .conftest import Call


def error_of(body: dict[str, Any]) -> str:
    assert body["ok"] is False, body
    return str(body["error"])


@pytest.fixture
def ts(call: Call, channel: str) -> str:
    return str(call("chat.postMessage", channel=channel, text="INC-1 declared")["ts"])


def test_pin_list_unpin(ws: Workspace, call: Call, channel: str, ts: str) -> None:
    assert call("pins.add", channel=channel, timestamp=ts) == {"ok": True}
    assert ws.messages(channel)[0]["pinned_to"] == [channel]

    items = call("pins.list", channel=channel)["items"]
    assert [(i["type"], i["channel"], i["message"]["ts"]) for i in items] == [
        ("message", channel, ts)
    ]
    assert items[0]["created_by"] == "U0FIREBOT"
    assert call("conversations.history", channel=channel)["pin_count"] == 1

    assert call("pins.remove", channel=channel, timestamp=ts) == {"ok": True}
    assert call("pins.list", channel=channel)["items"] == []
    assert "pinned_to" not in ws.messages(channel)[0]


def test_pin_errors(call: Call, channel: str, ts: str) -> None:
    call("pins.add", channel=channel, timestamp=ts)
    assert error_of(call("pins.add", channel=channel, timestamp=ts)) == "already_pinned"
    assert error_of(call("pins.add", channel=channel, timestamp="1.000001")) == (
        "message_not_found"
    )
    assert error_of(call("pins.add", channel=channel)) == "no_item_specified"
    assert error_of(call("pins.add", channel="C0NOTHERE0", timestamp=ts)) == "channel_not_found"
    assert error_of(call("pins.list", channel="C0NOTHERE0")) == "channel_not_found"
    call("pins.remove", channel=channel, timestamp=ts)
    assert error_of(call("pins.remove", channel=channel, timestamp=ts)) == "not_pinned"


def test_reaction(ws: Workspace, call: Call, channel: str, ts: str) -> None:
    assert call("reactions.add", channel=channel, timestamp=ts, name=":eyes:") == {"ok": True}
    assert ws.messages(channel)[0]["reactions"] == [
        {"name": "eyes", "users": ["U0FIREBOT"], "count": 1}
    ]
    body = call("reactions.add", channel=channel, timestamp=ts, name="eyes")
    assert error_of(body) == "already_reacted"
    assert ws.messages(channel)[0]["reactions"][0]["count"] == 1


def test_reaction_errors(ws: Workspace, call: Call, channel: str, ts: str) -> None:
    args = {"channel": channel, "timestamp": ts}
    assert error_of(call("reactions.add", **args, name="not an emoji")) == "invalid_name"
    assert error_of(call("reactions.add", **args)) == "invalid_name"
    assert error_of(call("reactions.add", channel=channel, name="eyes")) == "no_item_specified"
    assert error_of(call("reactions.add", channel=channel, timestamp="1.000001", name="eyes")) == (
        "message_not_found"
    )
    assert "reactions" not in ws.messages(channel)[0]
