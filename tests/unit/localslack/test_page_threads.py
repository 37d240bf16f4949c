"""Threads, pins, reactions and unread counts on the page, per person."""

from __future__ import annotations

import re

import httpx

from bot.localslack.mrkdwn import emoji
from bot.localslack.state import Workspace

from .conftest import ALICE, BOB, Call
from .htmlforms import forms
from .test_page_composer import act_as


async def show(browser: httpx.AsyncClient, channel: str | None = None) -> str:
    params = {"channel": channel} if channel else {}
    return (await browser.get("/", params=params)).text


def unread_badge(html: str, channel: str) -> str | None:
    """The unread count the sidebar shows next to the channel, or None."""
    found = re.search(
        rf'<a href="\?channel={channel}"[^>]*>\s*<span class="count" title="unread">(\d+)</span>',
        html,
    )
    return found[1] if found else None


async def test_replies_are_drawn_under_their_parent_with_a_reply_box(
    browser: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    parent = call("chat.postMessage", channel=channel, text="rolling back v43")["ts"]
    call("chat.postMessage", channel=channel, text="later, in the channel")
    ws.add_message(channel, BOB, "v41 looks healthy", thread_ts=parent)

    html = await show(browser, channel)

    # The reply comes after its parent and before the later channel message, in a thread.
    order = [html.index(t) for t in ("rolling back v43", "v41 looks healthy", "later, in the")]
    assert order == sorted(order)
    thread = html[html.index('<div class="thread"') : html.index("later, in the channel")]
    assert "1 reply" in thread and "v41 looks healthy" in thread
    boxes = [f for f in forms(html) if f.action.endswith("/reply")]
    assert [f.fields["thread_ts"] for f in boxes] == [parent, ws.messages(channel)[1]["ts"]]

    [box] = [f for f in boxes if f.fields["thread_ts"] == parent]
    await browser.post(box.action, data={**box.fields, "text": "confirmed <ok>"})

    replies = [
        m for m in ws.messages(channel) if m.get("thread_ts") == parent and m["ts"] != parent
    ]
    assert [(m["user"], m["text"]) for m in replies] == [
        (BOB, "v41 looks healthy"),
        (ALICE, "confirmed &lt;ok&gt;"),
    ]
    assert ws.messages(channel)[0]["reply_count"] == 2
    assert "2 replies" in await show(browser, channel)


async def test_a_reply_to_a_message_that_is_gone_is_refused(
    browser: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    await browser.post("/reply", data={"channel": channel, "thread_ts": "1.000001", "text": "hi"})
    assert ws.messages(channel) == []
    assert "That thread&#39;s message is gone." in await show(browser, channel)


async def test_a_reply_whose_parent_is_missing_stays_in_the_channel(
    browser: httpx.AsyncClient, ws: Workspace, channel: str
) -> None:
    ws.add_message(channel, BOB, "orphan reply", thread_ts="1700000000.000001")
    html = await show(browser, channel)
    assert "orphan reply" in html and '<span class="note">in thread</span>' in html


async def test_pins_and_reactions_are_visible(
    browser: httpx.AsyncClient, call: Call, channel: str
) -> None:
    ts = call("chat.postMessage", channel=channel, text="*Budget*: 3m 10s left")["ts"]
    call("chat.postMessage", channel=channel, text="not pinned")
    call("pins.add", channel=channel, timestamp=ts)
    call("reactions.add", channel=channel, timestamp=ts, name="eyes")
    call("reactions.add", channel=channel, timestamp=ts, name="custom_party")

    html = await show(browser, channel)

    header = html[html.index("<header>") : html.index("</header>")]
    assert f"{emoji('pushpin')} 1 pinned" in header
    assert f'href="#m{ts}"' in header and "<strong>Budget</strong>: 3m 10s left" in header
    assert "not pinned" not in header
    assert f'class="message pinned" id="m{ts}"' in html
    assert f'title=":eyes: by firebreak">{emoji("eyes")} 1</span>' in html
    assert f'<span class="note">{emoji("pushpin")} pinned</span>' in html  # on the message
    assert ":custom_party: 1</span>" in html  # no emoji known: the name, as Slack shows it


async def test_unread_counts_are_per_person_since_they_last_looked(
    browser: httpx.AsyncClient, ws: Workspace, call: Call, channel: str
) -> None:
    other = call("conversations.create", name="incidents")["channel"]["id"]
    call("chat.postMessage", channel=channel, text="one")
    call("chat.postMessage", channel=channel, text="two")

    # Alice opens `other`: everything in `channel` is unread for her.
    html = await show(browser, other)
    assert unread_badge(html, channel) == "2"
    assert unread_badge(html, other) is None

    # Opening the channel reads it; one more message (and a thread reply, and her own
    # message) later, one is unread.
    await show(browser, channel)
    assert unread_badge(await show(browser, other), channel) is None
    first = ws.messages(channel)[0]["ts"]
    call("chat.postMessage", channel=channel, text="three")
    ws.add_message(channel, BOB, "a reply", thread_ts=first)
    ws.add_message(channel, ALICE, "my own")
    assert unread_badge(await show(browser, other), channel) == "1"

    # Bob never looked: the bot's three messages and alice's are unread for him.
    await act_as(browser, BOB)
    assert unread_badge(await show(browser, other), channel) == "4"
