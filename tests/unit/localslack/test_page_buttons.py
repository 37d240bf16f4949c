"""Buttons and selects in messages: each is a form that sends block_actions for the person
the page acts as, with a response_url that acts on the clicked message."""

from __future__ import annotations

import re
from typing import Any

import httpx

from bot.localslack.state import Workspace

from .conftest import ALICE, BOB, KEYED, PAGE, SITE, Call
from .fakeapp import FakeApp, reply
from .htmlforms import form_with, forms
from .test_page_composer import act_as

BLOCKS: list[dict[str, Any]] = [
    {
        "type": "section",
        "block_id": "summary",
        "text": {"type": "mrkdwn", "text": "*INC-5* fraud model latency"},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "action_id": "incident_acknowledge",
            "value": "5",
        },
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "I'm commander"},
                "style": "primary",
                "action_id": "incident_claim_commander",
                "value": '5"><script>alert(1)</script>',
            },
            {
                "type": "static_select",
                "action_id": "severity",
                "placeholder": {"type": "plain_text", "text": "Severity"},
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "SEV1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "SEV2"},
                ],
            },
            {"type": "users_select", "action_id": "pick"},
        ],
    },
]


def post_incident(call: Call, channel: str) -> str:
    call("conversations.invite", channel=channel, users=f"{ALICE},{BOB}")
    return str(call("chat.postMessage", channel=channel, text="INC-5", blocks=BLOCKS)["ts"])


async def test_buttons_are_forms_carrying_their_place_not_their_value(
    browser: httpx.AsyncClient, call: Call, channel: str
) -> None:
    ts = post_incident(call, channel)

    html = (await browser.get("/", params={"channel": channel})).text

    accessory = form_with(html, "incident_acknowledge")
    claim = form_with(html, "incident_claim_commander")
    assert accessory.action == f"{SITE}/click" and accessory.buttons == ["Acknowledge"]
    assert accessory.fields == {"channel": channel, "ts": ts, "block": "0", "element": "accessory"}
    assert claim.fields["element"] == "0" and claim.fields["block"] == "1"
    assert 'class="btn primary"' in html
    assert "<script>alert" not in html
    assert 'data-value="5&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert form_with(html, "severity").selects["option"] == [
        ("", "Severity"),
        ("0", "SEV1"),
        ("1", "SEV2"),
    ]
    assert re.search(r"disabled\s+data-action-id=\"pick\"", html)  # drawn, not sendable


async def test_a_click_sends_block_actions_for_the_person(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, call: Call, channel: str
) -> None:
    ts = post_incident(call, channel)
    await act_as(browser, BOB)
    claim = form_with(
        (await browser.get("/", params={"channel": channel})).text, "incident_claim_commander"
    )

    await browser.post(claim.action, data=claim.fields)

    payload = app.last.payload
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": BOB, "username": "bob", "name": "bob", "team_id": ws.team_id}
    assert payload["team"] == {"id": ws.team_id, "domain": "firebreak-local"}
    assert payload["api_app_id"] == ws.app_id and payload["token"]
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": channel, "name": "inc-1-model-latency"}
    assert payload["message"]["ts"] == ts and payload["message"]["blocks"] == BLOCKS
    assert payload["trigger_id"]
    [action] = payload["actions"]
    assert action["type"] == "button"
    assert action["action_id"] == "incident_claim_commander"
    assert action["value"] == '5"><script>alert(1)</script>'
    assert action["block_id"]  # made up as Slack does for a block sent without one
    assert float(action["action_ts"]) > 0


async def test_the_response_url_replaces_the_clicked_message(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, call: Call, channel: str
) -> None:
    ts = post_incident(call, channel)
    button = form_with(
        (await browser.get("/", params={"channel": channel})).text, "incident_acknowledge"
    )
    await browser.post(button.action, data=button.fields)
    response_url = app.last.payload["response_url"]

    answered = await browser.post(
        response_url, json={"replace_original": True, "text": "Acknowledged by <@U0ALICE001>"}
    )
    page = (await browser.get("/", params={"channel": channel})).text

    assert response_url.startswith(f"{SITE}/localslack/api/respond/")
    assert (answered.status_code, answered.text) == (200, "ok")
    [message] = ws.messages(channel)
    assert (message["ts"], message["text"]) == (ts, "Acknowledged by <@U0ALICE001>")
    assert 'Acknowledged by <span class="ref">@Alice Liddell</span>' in page
    assert "incident_acknowledge" not in page


async def test_a_select_sends_the_chosen_option(
    browser: httpx.AsyncClient, app: FakeApp, call: Call, channel: str
) -> None:
    post_incident(call, channel)
    select = form_with((await browser.get("/", params={"channel": channel})).text, "severity")

    await browser.post(select.action, data={**select.fields, "option": "1"})
    await browser.post(select.action, data={**select.fields, "option": ""})  # the placeholder

    [received] = app.received
    [action] = received.payload["actions"]
    assert action["type"] == "static_select" and action["action_id"] == "severity"
    assert action["selected_option"] == {
        "text": {"type": "plain_text", "text": "SEV2"},
        "value": "SEV2",
    }


async def test_buttons_in_ephemeral_messages(
    browser: httpx.AsyncClient, app: FakeApp, ws: Workspace, call: Call, channel: str
) -> None:
    call("conversations.invite", channel=channel, users=ALICE)
    blocks = [BLOCKS[0]]
    ts = call("chat.postEphemeral", channel=channel, user=ALICE, text="x", blocks=blocks)[
        "message_ts"
    ]
    button = form_with(
        (await browser.get("/", params={"channel": channel})).text, "incident_acknowledge"
    )
    await browser.post(button.action, data=button.fields)

    payload = app.last.payload
    assert payload["container"]["is_ephemeral"] is True
    assert payload["container"]["message_ts"] == ts
    assert "message" not in payload  # Slack leaves ephemeral messages out
    assert payload["actions"][0]["block_id"] == "summary"
    await browser.post(payload["response_url"], json={"delete_original": True})
    assert ws.ephemeral(channel, ALICE) == []


async def test_a_failed_click_is_a_banner_not_a_crash(
    browser: httpx.AsyncClient, app: FakeApp, call: Call, channel: str
) -> None:
    app.answer = reply(status=500)
    post_incident(call, channel)
    button = form_with(
        (await browser.get("/", params={"channel": channel})).text, "incident_acknowledge"
    )

    page = await browser.post(button.action, data=button.fields)
    stale = await browser.post(button.action, data={**button.fields, "ts": "1.000001"})

    assert page.status_code == stale.status_code == 200
    assert "The app answered 500 Internal Server Error to the incident_acknowledge click" in (
        page.text
    )
    assert "That message is gone" in stale.text


async def test_without_anyone_to_act_as_buttons_are_inert(call: Call, channel: str) -> None:
    from bot.localslack.page import build_page
    from bot.localslack.state import Workspace

    empty = Workspace(tokens=["xoxb-x"])
    room = empty.ensure_channel("incidents")["id"]
    empty.dispatch("chat.postMessage", {"channel": room, "blocks": BLOCKS}, "xoxb-x")
    transport = httpx.ASGITransport(app=build_page(empty, access=PAGE))
    async with httpx.AsyncClient(transport=transport, base_url=SITE, cookies=KEYED) as browser:
        html = (await browser.get("/")).text

    assert [f for f in forms(html) if f.action.endswith("/click")] == []
    assert "Nobody to act as" in html
