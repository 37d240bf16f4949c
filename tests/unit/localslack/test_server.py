"""The stand-in over real HTTP, driven by slack_sdk's own AsyncWebClient."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.localslack.api import API_PREFIX
from bot.localslack.server import LocalSlackServer, build_standalone
from bot.localslack.state import Workspace

from .conftest import KEYED, PAGE

TOKEN = "xoxb-local-test"
ALICE = "U0ALICE001"


@pytest.fixture
def slack(server: LocalSlackServer) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=server.base_url)


async def test_incident_channel_round_trip(slack: AsyncWebClient, ws: Workspace) -> None:
    created = await slack.conversations_create(name="inc-9-recsys")
    channel = created["channel"]["id"]
    invited = await slack.conversations_invite(channel=channel, users=[ALICE])
    posted = await slack.chat_postMessage(
        channel=channel,
        text="INC-9 declared",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*INC-9* declared"}}],
    )
    await slack.chat_update(channel=channel, ts=posted["ts"], text="INC-9 mitigated")
    history = await slack.conversations_history(channel=channel)

    assert invited["channel"]["num_members"] == 2
    assert [m["text"] for m in history["messages"]] == ["INC-9 mitigated"]
    assert history["messages"][0]["blocks"][0]["text"]["text"] == "*INC-9* declared"
    assert "edited" in history["messages"][0]
    assert [c.method for c in ws.calls] == [
        "conversations.create",
        "conversations.invite",
        "chat.postMessage",
        "chat.update",
        "conversations.history",
    ]
    assert all(c.token == TOKEN for c in ws.calls)


async def test_duplicate_name_raises_name_taken(slack: AsyncWebClient) -> None:
    await slack.conversations_create(name="inc-10")
    with pytest.raises(SlackApiError) as raised:
        await slack.conversations_create(name="inc-10")
    assert raised.value.response["error"] == "name_taken"
    assert raised.value.response.status_code == 200


async def test_rate_limit_is_retried_by_the_sdk_handler(
    slack: AsyncWebClient, ws: Workspace, channel: str
) -> None:
    slack.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    ws.fail("chat.postMessage", status=429, retry_after=1)

    started = time.monotonic()
    response = await slack.chat_postMessage(channel=channel, text="after the limit")

    assert response["ok"] is True
    assert [c.status for c in ws.calls_to("chat.postMessage")] == [429, 200]
    assert time.monotonic() - started >= 1  # the handler honoured Retry-After
    assert [m["text"] for m in ws.messages(channel)] == ["after the limit"]


async def test_rate_limit_without_a_handler_raises(
    slack: AsyncWebClient, ws: Workspace, channel: str
) -> None:
    ws.fail("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as raised:
        await slack.chat_postMessage(channel=channel, text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert raised.value.response["error"] == "ratelimited"
    assert ws.messages(channel) == []


async def test_wrong_token_over_http(server: LocalSlackServer) -> None:
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(token="xoxb-nope", base_url=server.base_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


def test_base_url_and_lifecycle(ws: Workspace) -> None:
    server = LocalSlackServer(ws)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/")
        assert not server.base_url.endswith(":0/")
    finally:
        server.stop()
    server.stop()  # stopping twice is harmless


async def test_standalone_layout_matches_the_embedded_one(ws: Workspace) -> None:
    transport = httpx.ASGITransport(app=build_standalone(ws, access=PAGE))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://localslack.test", cookies=KEYED
    ) as http:
        api = await http.post(
            f"{API_PREFIX}/auth.test", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        page = await http.get("/")
    assert api.json()["ok"] is True
    assert page.status_code == 200 and "Firebreak local" in page.text


async def test_dm_a_user_through_the_sdk(slack: AsyncWebClient, ws: Workspace) -> None:
    opened = await slack.conversations_open(users=[ALICE], return_im=True)
    posted = await slack.chat_postMessage(channel=ALICE, text="You are INC-9 commander")
    again = await slack.conversations_open(users=ALICE)

    im = opened["channel"]["id"]
    assert im.startswith("D") and opened["channel"]["user"] == ALICE
    assert posted["channel"] == im
    assert again["already_open"] is True and again["channel"] == {"id": im}
    assert [m["text"] for m in ws.direct_messages(ALICE)] == ["You are INC-9 commander"]
    with pytest.raises(SlackApiError) as raised:
        await slack.conversations_open(users="U0NOBODY01")
    assert raised.value.response["error"] == "user_not_found"


async def test_post_ephemeral_through_the_sdk(
    slack: AsyncWebClient, ws: Workspace, channel: str
) -> None:
    await slack.conversations_invite(channel=channel, users=[ALICE])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Only *you*"}}]

    body = await slack.chat_postEphemeral(channel=channel, user=ALICE, text="x", blocks=blocks)

    assert body["ok"] is True
    (sent,) = ws.ephemeral(channel, ALICE)
    assert (sent["ts"], sent["blocks"]) == (body["message_ts"], blocks)
    assert ws.messages(channel) == []
    with pytest.raises(SlackApiError) as raised:
        await slack.chat_postEphemeral(channel=channel, user="U0BOB00001", text="x")
    assert raised.value.response["error"] == "user_not_in_channel"


async def test_open_then_update_a_modal_through_the_sdk(
    slack: AsyncWebClient, ws: Workspace
) -> None:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary_input"},
            }
        ],
    }
    opened = await slack.views_open(trigger_id="123.456.abc", view=view)
    view_id = opened["view"]["id"]
    updated = await slack.views_update(
        view_id=view_id,
        hash=opened["view"]["hash"],
        view={**view, "title": {"type": "plain_text", "text": "Declared"}},
    )

    assert updated["view"]["id"] == view_id
    assert [(v["id"], v["title"]["text"]) for v in ws.views()] == [(view_id, "Declared")]
    with pytest.raises(SlackApiError) as raised:
        await slack.views_open(trigger_id="123.456.abc", view=view)
    assert raised.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as raised:
        await slack.views_update(view_id=view_id, hash=opened["view"]["hash"], view=view)
    assert raised.value.response["error"] == "hash_conflict"
