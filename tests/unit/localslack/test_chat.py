"""chat.* as answered by Workspace.dispatch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.localslack.state import Workspace

from .conftest import Call

ALICE = "U0ALICE001"
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "INC-1"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* fraud model"}},
]


def error_of(body: dict[str, Any]) -> str:
    assert body["ok"] is False, body
    return str(body["error"])


def test_post_message_returns_and_stores_the_message(
    ws: Workspace, call: Call, channel: str
) -> None:
    body = call("chat.postMessage", channel=channel, text="INC-1 declared", blocks=BLOCKS)

    assert body["ok"] and body["channel"] == channel
    assert body["message"] == {
        "type": "message",
        "ts": body["ts"],
        "user": "U0FIREBOT",
        "bot_id": "B0FIREBOT",
        "team": "T0LOCAL01",
        "text": "INC-1 declared",
        "blocks": BLOCKS,
    }
    assert ws.messages(channel) == [body["message"]]


@pytest.mark.parametrize("ref", ["inc-1-model-latency", "#inc-1-model-latency"])
def test_post_message_by_channel_name(call: Call, channel: str, ref: str) -> None:
    assert call("chat.postMessage", channel=ref, text="hi")["channel"] == channel


def test_post_message_blocks_as_a_json_string(ws: Workspace, call: Call, channel: str) -> None:
    call("chat.postMessage", channel=channel, blocks=json.dumps(BLOCKS))
    assert ws.messages(channel)[0]["blocks"] == BLOCKS
    assert ws.messages(channel)[0]["text"] == ""


def test_post_message_errors(ws: Workspace, call: Call, channel: str) -> None:
    assert error_of(call("chat.postMessage", channel="C0NOTHERE0", text="x")) == (
        "channel_not_found"
    )
    assert error_of(call("chat.postMessage", text="x")) == "channel_not_found"
    assert error_of(call("chat.postMessage", channel=channel)) == "no_text"
    assert error_of(call("chat.postMessage", channel=channel, text="")) == "no_text"
    assert error_of(call("chat.postMessage", channel=channel, text="x" * 40_001)) == (
        "msg_too_long"
    )
    assert ws.messages(channel) == []
    assert call("chat.postMessage", channel=channel, text="x" * 40_000)["ok"]


def test_post_message_needs_membership(ws: Workspace, call: Call, channel: str) -> None:
    call("conversations.leave", channel=channel)
    assert error_of(call("chat.postMessage", channel=channel, text="x")) == "not_in_channel"
    assert ws.messages(channel) == []


@pytest.mark.parametrize(
    "blocks",
    [
        "{not json",
        {"type": "section"},
        [{"text": "no type"}],
        [{"type": 3}],
        ["divider"],
        [{"type": "divider"}] * 51,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    ],
)
def test_post_message_invalid_blocks(ws: Workspace, call: Call, channel: str, blocks: Any) -> None:
    body = call("chat.postMessage", channel=channel, text="x", blocks=blocks)
    assert error_of(body) == "invalid_blocks"
    assert ws.messages(channel) == []


def test_invalid_blocks_say_where(call: Call, channel: str) -> None:
    body = call("chat.postMessage", channel=channel, blocks=[{"type": "divider"}, {}])
    assert body["errors"] == ["missing required field: type [json-pointer:/blocks/1]"]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")


def test_thread_reply_and_broadcast(ws: Workspace, call: Call, channel: str) -> None:
    parent = call("chat.postMessage", channel=channel, text="INC-1")["ts"]
    reply = call("chat.postMessage", channel=channel, text="r", thread_ts=parent)["message"]
    shout = call(
        "chat.postMessage", channel=channel, text="b", thread_ts=parent, reply_broadcast="true"
    )["message"]
    assert reply["thread_ts"] == parent and "subtype" not in reply
    assert shout["subtype"] == "thread_broadcast"
    assert ws.messages(channel)[0]["reply_count"] == 2
    assert ws.messages(channel)[0]["latest_reply"] == shout["ts"]


# chat.update


def test_update_replaces_text_keeps_blocks_and_marks_edited(
    ws: Workspace, call: Call, channel: str
) -> None:
    ts = call("chat.postMessage", channel=channel, text="old", blocks=BLOCKS)["ts"]

    body = call("chat.update", channel=channel, ts=ts, text="new")

    assert (body["ok"], body["channel"], body["ts"], body["text"]) == (True, channel, ts, "new")
    stored = ws.messages(channel)[0]
    assert stored == body["message"]
    assert stored["blocks"] == BLOCKS  # left out of the update: kept, as documented
    assert stored["edited"]["user"] == "U0FIREBOT"
    assert stored["edited"]["ts"] > ts


def test_update_with_new_blocks_or_an_empty_list(ws: Workspace, call: Call, channel: str) -> None:
    ts = call("chat.postMessage", channel=channel, text="t", blocks=BLOCKS)["ts"]
    call("chat.update", channel=channel, ts=ts, blocks=BLOCKS[:1])
    assert ws.messages(channel)[0]["blocks"] == BLOCKS[:1]
    assert ws.messages(channel)[0]["text"] == "t"
    call("chat.update", channel=channel, ts=ts, text="plain", blocks="[]")
    assert "blocks" not in ws.messages(channel)[0]


def test_update_errors(ws: Workspace, call: Call, channel: str) -> None:
    ts = call("chat.postMessage", channel=channel, text="mine")["ts"]
    human = ws.add_message(channel, ALICE, "theirs")["ts"]

    assert error_of(call("chat.update", channel=channel, ts="1.000001", text="x")) == (
        "message_not_found"
    )
    assert error_of(call("chat.update", channel=channel, text="x")) == "message_not_found"
    assert error_of(call("chat.update", channel=channel, ts=human, text="x")) == (
        "cant_update_message"
    )
    assert error_of(call("chat.update", channel="C0NOTHERE0", ts=ts, text="x")) == (
        "channel_not_found"
    )
    assert error_of(call("chat.update", channel=channel, ts=ts)) == "no_text"
    assert error_of(call("chat.update", channel=channel, ts=ts, blocks=[{}])) == "invalid_blocks"
    assert [m["text"] for m in ws.messages(channel)] == ["mine", "theirs"]
    assert all("edited" not in m for m in ws.messages(channel))


# chat.getPermalink


def test_get_permalink(call: Call, channel: str) -> None:
    ts = call("chat.postMessage", channel=channel, text="x")["ts"]
    body = call("chat.getPermalink", channel=channel, message_ts=ts)
    assert body == {
        "ok": True,
        "channel": channel,
        "permalink": f"http://localslack.invalid/archives/{channel}/p{ts.replace('.', '')}",
    }


def test_get_permalink_of_a_reply_names_the_thread(call: Call, channel: str) -> None:
    parent = call("chat.postMessage", channel=channel, text="x")["ts"]
    reply = call("chat.postMessage", channel=channel, text="y", thread_ts=parent)["ts"]
    link = call("chat.getPermalink", channel=channel, message_ts=reply)["permalink"]
    assert link.endswith(f"?thread_ts={parent}&cid={channel}")


def test_get_permalink_errors(call: Call, channel: str) -> None:
    assert error_of(call("chat.getPermalink", channel=channel, message_ts="1.000001")) == (
        "message_not_found"
    )
    assert error_of(call("chat.getPermalink", channel="C0NOTHERE0", message_ts="1.0")) == (
        "channel_not_found"
    )


# chat.postMessage to a person: the bot's DM with them

BOB = "U0BOB00001"


def test_post_message_to_a_user_id_lands_in_their_dm(ws: Workspace, call: Call) -> None:
    first = call("chat.postMessage", channel=ALICE, text="You are commander of INC-1")
    second = call("chat.postMessage", channel=ALICE, text="Reminder: update due")

    im = first["channel"]
    assert im.startswith("D") and second["channel"] == im
    assert first["message"]["user"] == "U0FIREBOT"
    assert [m["text"] for m in ws.direct_messages(ALICE)] == [
        "You are commander of INC-1",
        "Reminder: update due",
    ]
    assert ws.direct_messages(BOB) == []
    opened = call("conversations.open", users=ALICE)
    assert (opened["channel"]["id"], opened["already_open"]) == (im, True)


def test_post_message_to_an_open_dm_by_its_id(ws: Workspace, call: Call) -> None:
    im = call("conversations.open", users=BOB)["channel"]["id"]
    assert call("chat.postMessage", channel=im, text="hi")["channel"] == im
    assert [m["text"] for m in ws.direct_messages(BOB)] == ["hi"]


def test_post_message_to_a_user_errors_open_nothing(ws: Workspace, call: Call) -> None:
    assert error_of(call("chat.postMessage", channel="U0NOBODY01", text="x")) == (
        "channel_not_found"
    )
    assert error_of(call("chat.postMessage", channel="U0FIREBOT", text="x")) == (
        "channel_not_found"
    )
    assert error_of(call("chat.postMessage", channel=ALICE)) == "no_text"
    assert error_of(call("chat.postMessage", channel=ALICE, text="x", blocks=[{}])) == (
        "invalid_blocks"
    )
    assert ws.ims() == []


# chat.postEphemeral


def test_post_ephemeral_is_recorded_but_not_in_history(
    ws: Workspace, call: Call, channel: str
) -> None:
    call("conversations.invite", channel=channel, users=f"{ALICE},{BOB}")

    body = call("chat.postEphemeral", channel=channel, user=ALICE, text="Only you", blocks=BLOCKS)
    call("chat.postEphemeral", channel=channel, user=BOB, text="Bob's turn")

    assert body == {"ok": True, "message_ts": body["message_ts"]}
    assert ws.messages(channel) == []
    assert call("conversations.history", channel=channel)["messages"] == []
    (alice,) = ws.ephemeral(channel, ALICE)
    assert (
        alice.items()
        >= {
            "user": ALICE,
            "text": "Only you",
            "blocks": BLOCKS,
            "ts": body["message_ts"],
        }.items()
    )
    assert [(m["user"], m["text"], m["blocks"]) for m in ws.ephemeral(channel)] == [
        (ALICE, "Only you", BLOCKS),
        (BOB, "Bob's turn", []),
    ]
    assert ws.ephemeral(channel, "U0NOBODY01") == []


def test_post_ephemeral_in_a_thread_and_by_channel_name(
    ws: Workspace, call: Call, channel: str
) -> None:
    call("conversations.invite", channel=channel, users=ALICE)
    parent = call("chat.postMessage", channel=channel, text="INC-1")["ts"]
    call(
        "chat.postEphemeral",
        channel="#inc-1-model-latency",
        user=ALICE,
        text="psst",
        thread_ts=parent,
    )
    assert ws.ephemeral(channel)[0]["thread_ts"] == parent
    assert ws.messages(channel)[0].get("reply_count") is None


def test_post_ephemeral_in_a_dm(ws: Workspace, call: Call) -> None:
    im = call("conversations.open", users=ALICE)["channel"]["id"]
    assert call("chat.postEphemeral", channel=im, user=ALICE, text="x")["ok"]
    assert error_of(call("chat.postEphemeral", channel=im, user=BOB, text="x")) == (
        "user_not_in_channel"
    )
    assert [m["user"] for m in ws.ephemeral(im)] == [ALICE]


def test_post_ephemeral_errors(ws: Workspace, call: Call, channel: str) -> None:
    call("conversations.invite", channel=channel, users=ALICE)

    def error(**args: Any) -> str:
        return error_of(call("chat.postEphemeral", **args))

    assert error(channel="C0NOTHERE0", user=ALICE, text="x") == "channel_not_found"
    assert error(user=ALICE, text="x") == "channel_not_found"
    assert error(channel=channel, user=BOB, text="x") == "user_not_in_channel"
    assert error(channel=channel, user="U0NOBODY01", text="x") == "user_not_in_channel"
    assert error(channel=channel, text="x") == "user_not_in_channel"
    assert error(channel=channel, user=ALICE) == "no_text"
    assert error(channel=channel, user=ALICE, text="") == "no_text"
    assert error(channel=channel, user=ALICE, text="x" * 40_001) == "msg_too_long"
    invalid = call("chat.postEphemeral", channel=channel, user=ALICE, blocks=[{"text": "?"}])
    assert error_of(invalid) == "invalid_blocks"
    assert invalid["response_metadata"]["messages"] == [
        "[ERROR] missing required field: type [json-pointer:/blocks/0]"
    ]
    call("conversations.archive", channel=channel)
    assert error(channel=channel, user=ALICE, text="x") == "is_archived"
    assert ws.ephemeral(channel) == []
