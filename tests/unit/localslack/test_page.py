"""The workspace page, requested in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.localslack.page import build_page
from bot.localslack.state import Workspace

from .conftest import KEYED, PAGE, Call

ALICE = "U0ALICE001"
BOB = "U0BOB00001"


@pytest.fixture
async def http(ws: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://localslack.test", cookies=KEYED
    ) as http:
        yield http


async def test_empty_workspace(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert "No channels yet" in response.text
    # Live updates: the script polls version.json; without scripts, a plain refresh.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in response.text
    assert 'data-poll="http://localslack.test/version.json"' in response.text


async def test_lists_channels_and_shows_the_newest(
    http: httpx.AsyncClient, ws: Workspace, call: Call
) -> None:
    ws.ensure_channel("incidents")
    newest = call("conversations.create", name="inc-2-ranker")["channel"]["id"]
    call("conversations.setTopic", channel=newest, topic="SEV1 ranker down")
    call("chat.postMessage", channel=newest, text="*INC-2* declared")

    html = (await http.get("/")).text

    assert "#incidents" in html and "#inc-2-ranker" in html
    assert "SEV1 ranker down" in html
    assert "<strong>INC-2</strong> declared" in html
    assert f'href="?channel={newest}" class="selected"' in html


async def test_message_text_is_escaped(http: httpx.AsyncClient, ws: Workspace, call: Call) -> None:
    channel = call("conversations.create", name="inc-3")["channel"]["id"]
    call("chat.postMessage", channel=channel, text="<script>alert(1)</script>")
    call("conversations.setTopic", channel=channel, topic="<i>topic</i>")
    ws.add_message(channel, ALICE, "<img src=x onerror=alert(2)>")

    html = (await http.get("/", params={"channel": channel})).text

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<span class="topic">&lt;i&gt;topic&lt;/i&gt;</span>' in html  # the sidebar
    assert "alice" in html


async def test_blocks_are_drawn(http: httpx.AsyncClient, call: Call) -> None:
    channel = call("conversations.create", name="inc-4")["channel"]["id"]
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "INC-4 <b>"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Commander* <@U0ALICE001>"},
            "fields": [{"type": "mrkdwn", "text": "*Severity*\nSEV2"}],
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "opened by alertmanager"}]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Roll back"},
                    "style": "danger",
                    "action_id": "rollback",
                }
            ],
        },
        {"type": "image", "image_url": "https://grafana.example/p.png", "alt_text": "p99"},
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "evil"},
    ]
    call("chat.postMessage", channel=channel, text="fallback only", blocks=blocks)

    html = (await http.get("/", params={"channel": channel})).text

    assert "INC-4 &lt;b&gt;" in html
    assert '<strong>Commander</strong> <span class="ref">@Alice Liddell</span>' in html
    assert "<strong>Severity</strong><br>" in html
    assert '<hr class="block divider">' in html
    assert "opened by alertmanager" in html
    assert 'class="btn danger"' in html and "Roll back</button>" in html
    assert '<img class="picture" src="https://grafana.example/p.png" alt="p99">' in html
    assert "javascript:" not in html and "[image: evil]" in html
    assert "fallback only" not in html  # as in Slack, text is the fallback for blocks


async def test_unknown_channel_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/", params={"channel": "C0<b>NOPE"})
    assert response.status_code == 404
    assert "C0&lt;b&gt;NOPE" in response.text


async def test_state_json(http: httpx.AsyncClient, call: Call, channel: str) -> None:
    ts = call("chat.postMessage", channel=channel, text="hello")["ts"]
    state = (await http.get("/state.json")).json()
    assert [c["id"] for c in state["channels"]] == [channel]
    assert [(m["ts"], m["text"]) for m in state["messages"][channel]] == [(ts, "hello")]


async def test_direct_messages_in_the_sidebar_and_shown(
    http: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    im = call("chat.postMessage", channel=ALICE, text="You are *commander*")["channel"]
    ws.add_message(im, ALICE, "ack")

    front = (await http.get("/")).text
    shown = (await http.get("/", params={"channel": im})).text

    assert "Direct messages" in front
    assert f'href="?channel={im}"' in front
    assert f'href="?channel={channel}" class="selected"' in front
    assert "You are <strong>" not in front  # the newest channel is still the default
    assert f'href="?channel={im}" class="selected"' in shown
    assert "<h2>alice</h2>" in shown
    assert "You are <strong>commander</strong>" in shown and "ack" in shown


async def test_no_direct_messages_heading_without_ims(
    http: httpx.AsyncClient, channel: str
) -> None:
    assert "Direct messages" not in (await http.get("/")).text


async def test_ephemeral_messages_are_marked(
    http: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    call("conversations.invite", channel=channel, users=f"{ALICE},{BOB}")
    call("chat.postMessage", channel=channel, text="for everyone")
    call("chat.postEphemeral", channel=channel, user=ALICE, text="just <b>for</b> you")
    call("chat.postMessage", channel=channel, text="later")

    assert call("chat.postEphemeral", channel=channel, user=BOB, text="bob's own")["ok"]
    html = (await http.get("/", params={"channel": channel})).text  # as alice, the default

    assert "Only visible to you" in html
    assert "just &lt;b&gt;for&lt;/b&gt; you" in html and "<b>for</b>" not in html
    order = [html.index(t) for t in ("for everyone", "just &lt;b&gt;", "later")]
    assert order == sorted(order)  # in ts order among the channel's messages
    assert html.count("Only visible to") == 1
    assert "bob's own" not in html and "bob&#39;s own" not in html  # as in Slack: not yours


async def test_state_json_has_ims_ephemeral_and_views(
    http: httpx.AsyncClient, call: Call, channel: str
) -> None:
    im = call("chat.postMessage", channel=ALICE, text="dm")["channel"]
    call("chat.postEphemeral", channel=im, user=ALICE, text="eph")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    view_id = call("views.open", trigger_id="t", view=view)["view"]["id"]

    state = (await http.get("/state.json")).json()

    assert [c["id"] for c in state["channels"]] == [channel]
    assert [i["id"] for i in state["ims"]] == [im]
    assert [m["text"] for m in state["messages"][im]] == ["dm"]
    assert [m["text"] for m in state["ephemeral"][im]] == ["eph"]
    assert state["ephemeral"][channel] == []
    assert [v["id"] for v in state["views"]] == [view_id]
