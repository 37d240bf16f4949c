"""Who the page names and suggests: members.json for the composer's "@name" completion, and
mentions shown as Slack shows them (@display name), in topics as in messages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.localslack import pageview
from bot.localslack.mrkdwn import Formatter
from bot.localslack.page import build_page
from bot.localslack.state import Workspace

from .conftest import ALICE, BOB, KEYED, PAGE, SITE, Call

CAROL = "U0CAROL001"


@pytest.fixture
async def http(ws: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE))
    async with httpx.AsyncClient(transport=transport, base_url=SITE, cookies=KEYED) as http:
        yield http


async def test_members_json_lists_the_people_a_typed_name_can_mention(
    http: httpx.AsyncClient, ws: Workspace
) -> None:
    ws.add_user(CAROL, "carol", real_name="Carol <b>D</b>")

    answer = await http.get("/members.json")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    # Not the bot (payloads.with_mentions leaves "@firebreak" as typed), nor e-mails.
    assert answer.json() == {
        "members": [
            {"id": ALICE, "name": "alice", "display_name": "", "real_name": "Alice Liddell"},
            {"id": BOB, "name": "bob", "display_name": "", "real_name": "bob"},
            # As stored: the page puts names in as text, never as markup.
            {"id": CAROL, "name": "carol", "display_name": "", "real_name": "Carol <b>D</b>"},
        ]
    }


async def test_members_json_needs_the_pages_key_and_host(ws: Workspace) -> None:
    transport = httpx.ASGITransport(app=build_page(ws, access=PAGE))
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as keyless:
        refused = await keyless.get("/members.json")
        assert refused.status_code == 403 and "alice" not in refused.text
    async with httpx.AsyncClient(
        transport=transport, base_url=SITE, cookies={PAGE.cookie: "not-the-key"}
    ) as wrong_key:
        assert (await wrong_key.get("/members.json")).status_code == 403
    async with httpx.AsyncClient(
        transport=transport, base_url="http://evil.example", cookies=KEYED
    ) as rebound:
        assert (await rebound.get("/members.json")).status_code == 403


async def test_the_page_tells_its_script_where_members_are(
    http: httpx.AsyncClient, call: Call
) -> None:
    call("conversations.create", name="inc-1")
    html = (await http.get("/")).text
    assert f'data-members="{SITE}/members.json"' in html
    assert 'id="composer"' in html and "completeMentions" in html


async def test_mentions_in_topics_show_as_names_in_the_header_sidebar_and_history(
    http: httpx.AsyncClient, call: Call
) -> None:
    channel = call("conversations.create", name="inc-1")["channel"]["id"]
    # As the bot sets it (bot.incidents.topic): mrkdwn, with its other parts escaped.
    call("conversations.setTopic", channel=channel, topic=f"SEV2 &amp; up · commander <@{ALICE}>")

    html = (await http.get("/", params={"channel": channel})).text

    named = 'SEV2 &amp; up · commander <span class="ref">@Alice Liddell</span>'
    assert f"<h2>#inc-1</h2><p>{named}</p>" in html  # the header
    assert f'<span class="topic">{named}</span>' in html  # the sidebar
    assert f"set the channel topic: {named}</div>" in html  # the "set the topic" message
    assert f"&lt;@{ALICE}&gt;" not in html and f"<@{ALICE}>" not in html


@pytest.mark.parametrize(
    ("profile", "shown"),
    [
        ({"display_name": "Bobby", "real_name": "Robert Tables"}, "Bobby"),
        ({"display_name": "", "real_name": "Robert Tables"}, "Robert Tables"),
        ({}, "bob"),
    ],
)
def test_mentions_show_the_display_name_as_slack_does(profile: dict[str, str], shown: str) -> None:
    user = {"id": BOB, "name": "bob", "profile": profile}
    assert pageview.shown_name(user) == shown
    fmt = Formatter(users={BOB: pageview.shown_name(user)}, channels={})
    assert str(fmt.mrkdwn(f"handing off to <@{BOB}>")) == (
        f'handing off to <span class="ref">@{shown}</span>'
    )
