"""conversations.* as answered by Workspace.dispatch."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.localslack.state import Workspace

from .conftest import Call

ALICE = "U0ALICE001"
BOB = "U0BOB00001"
BOT = "U0FIREBOT"


def error_of(body: dict[str, Any]) -> str:
    assert body["ok"] is False, body
    return str(body["error"])


# conversations.create


def test_create_returns_a_conversation_object(call: Call) -> None:
    before = int(time.time())
    channel = call("conversations.create", name="inc-7-fraud-model")["channel"]

    assert channel["id"].startswith("C") and len(channel["id"]) == 11
    assert channel["created"] >= before
    assert (
        channel.items()
        >= {
            "name": "inc-7-fraud-model",
            "name_normalized": "inc-7-fraud-model",
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "creator": BOT,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": 1,
        }.items()
    )


def test_create_private(call: Call) -> None:
    assert call("conversations.create", name="secret", is_private="true")["channel"]["is_private"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (None, "invalid_name_required"),
        ("", "invalid_name_required"),
        ("a" * 81, "invalid_name_maxlength"),
        ("Inc-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc.1", "invalid_name_specials"),
        ("#inc-1", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("_-_", "invalid_name_punctuation"),
    ],
)
def test_create_applies_slack_naming_rules(
    ws: Workspace, call: Call, name: str | None, error: str
) -> None:
    args = {} if name is None else {"name": name}
    assert error_of(call("conversations.create", **args)) == error
    assert ws.channels() == []


def test_create_accepts_80_characters(call: Call) -> None:
    assert call("conversations.create", name="a" * 80)["ok"]


def test_create_refuses_a_taken_name(ws: Workspace, call: Call, channel: str) -> None:
    assert error_of(call("conversations.create", name="inc-1-model-latency")) == "name_taken"
    assert len(ws.channels()) == 1


# conversations.invite


def test_invite_adds_members(call: Call, channel: str) -> None:
    body = call("conversations.invite", channel=channel, users=f"{ALICE},{BOB}")
    assert body["ok"] and body["channel"]["id"] == channel
    assert body["channel"]["num_members"] == 3
    assert call("conversations.members", channel=channel)["members"] == [BOT, ALICE, BOB]


@pytest.mark.parametrize(
    ("users", "error"),
    [
        ("", "no_user"),
        ("U0NOBODY01", "user_not_found"),
        (f"{ALICE},U0NOBODY01", "user_not_found"),
        (BOT, "cant_invite_self"),
        (",".join(f"U{i:010d}" for i in range(1001)), "too_many_users"),
    ],
)
def test_invite_errors(call: Call, channel: str, users: str, error: str) -> None:
    assert error_of(call("conversations.invite", channel=channel, users=users)) == error
    assert call("conversations.members", channel=channel)["members"] == [BOT]


def test_invite_someone_already_in_fails_the_whole_call(call: Call, channel: str) -> None:
    call("conversations.invite", channel=channel, users=ALICE)
    body = call("conversations.invite", channel=channel, users=f"{BOB},{ALICE}")
    assert error_of(body) == "already_in_channel"
    assert body["errors"] == [{"user": ALICE, "ok": False, "error": "already_in_channel"}]
    assert BOB not in call("conversations.members", channel=channel)["members"]


def test_invite_with_force_invites_the_valid_ones(call: Call, channel: str) -> None:
    body = call("conversations.invite", channel=channel, users=f"{ALICE},U0NOBODY01", force=True)
    assert body["ok"]
    assert body["errors"] == [{"user": "U0NOBODY01", "ok": False, "error": "user_not_found"}]
    assert call("conversations.members", channel=channel)["members"] == [BOT, ALICE]


def test_invite_needs_the_bot_in_the_channel(call: Call, channel: str) -> None:
    call("conversations.leave", channel=channel)
    assert error_of(call("conversations.invite", channel=channel, users=ALICE)) == (
        "not_in_channel"
    )


def test_invite_unknown_or_missing_channel(call: Call) -> None:
    assert error_of(call("conversations.invite", channel="C0NOTHERE0", users=ALICE)) == (
        "channel_not_found"
    )
    assert error_of(call("conversations.invite", users=ALICE)) == "channel_not_found"


# conversations.list


def test_list_paginates_with_cursors(call: Call) -> None:
    ids = [call("conversations.create", name=f"inc-{n}")["channel"]["id"] for n in range(5)]

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        body = call("conversations.list", limit=2, cursor=cursor)
        seen += [c["id"] for c in body["channels"]]
        pages += 1
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    assert pages == 3


def test_list_defaults_to_public_channels_and_filters(call: Call) -> None:
    call("conversations.create", name="public")
    call("conversations.create", name="private", is_private=True)
    archived = call("conversations.create", name="old")["channel"]["id"]
    call("conversations.archive", channel=archived)

    def names(**args: Any) -> list[str]:
        return [c["name"] for c in call("conversations.list", **args)["channels"]]

    assert names() == ["public", "old"]
    assert names(types="private_channel") == ["private"]
    assert names(types="public_channel,private_channel", exclude_archived="true") == [
        "public",
        "private",
    ]


def test_list_rejects_a_forged_cursor(call: Call, channel: str) -> None:
    assert error_of(call("conversations.list", cursor="bm90LWEtY3Vyc29y")) == "invalid_cursor"


# conversations.info / members / join / leave


def test_info(call: Call, channel: str) -> None:
    assert call("conversations.info", channel=channel)["channel"]["name"] == "inc-1-model-latency"
    assert error_of(call("conversations.info", channel="C0NOTHERE0")) == "channel_not_found"
    assert error_of(call("conversations.info")) == "channel_not_found"


def test_private_channel_the_bot_left_is_invisible(call: Call) -> None:
    private = call("conversations.create", name="hush", is_private=True)["channel"]["id"]
    call("conversations.invite", channel=private, users=ALICE)
    assert call("conversations.leave", channel=private) == {"ok": True}
    assert error_of(call("conversations.info", channel=private)) == "channel_not_found"


def test_members_paginate(call: Call, channel: str) -> None:
    call("conversations.invite", channel=channel, users=f"{ALICE},{BOB}")
    first = call("conversations.members", channel=channel, limit=2)
    assert first["members"] == [BOT, ALICE]
    cursor = first["response_metadata"]["next_cursor"]
    second = call("conversations.members", channel=channel, limit=2, cursor=cursor)
    assert second["members"] == [BOB]
    assert second["response_metadata"]["next_cursor"] == ""


def test_join_and_join_again(call: Call, channel: str) -> None:
    assert call("conversations.leave", channel=channel) == {"ok": True}
    assert call("conversations.leave", channel=channel) == {"ok": True, "not_in_channel": True}
    joined = call("conversations.join", channel=channel)
    assert joined["channel"]["is_member"] and "warning" not in joined
    again = call("conversations.join", channel=channel)
    assert again["warning"] == "already_in_channel"
    assert again["response_metadata"] == {"warnings": ["already_in_channel"]}


def test_archived_channel_refuses_joins_and_posts(call: Call, channel: str) -> None:
    assert call("conversations.archive", channel=channel) == {"ok": True}
    assert error_of(call("conversations.archive", channel=channel)) == "already_archived"
    assert error_of(call("conversations.join", channel=channel)) == "is_archived"
    assert error_of(call("chat.postMessage", channel=channel, text="x")) == "is_archived"


# conversations.history / replies


def test_history_is_newest_first_with_has_more(call: Call, channel: str) -> None:
    stamps = [call("chat.postMessage", channel=channel, text=str(n))["ts"] for n in range(5)]

    page = call("conversations.history", channel=channel, limit=2)
    assert [m["text"] for m in page["messages"]] == ["4", "3"]
    assert page["has_more"] is True

    rest = call(
        "conversations.history",
        channel=channel,
        limit=10,
        cursor=page["response_metadata"]["next_cursor"],
    )
    assert [m["ts"] for m in rest["messages"]] == stamps[2::-1]
    assert rest["has_more"] is False


def test_history_default_limit_is_100(call: Call, channel: str) -> None:
    for n in range(101):
        call("chat.postMessage", channel=channel, text=str(n))
    page = call("conversations.history", channel=channel)
    assert len(page["messages"]) == 100
    assert page["has_more"] is True


def test_history_time_window(call: Call, channel: str) -> None:
    stamps = [call("chat.postMessage", channel=channel, text=str(n))["ts"] for n in range(4)]
    window = call("conversations.history", channel=channel, oldest=stamps[0], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["2", "1"]
    inclusive = call(
        "conversations.history",
        channel=channel,
        oldest=stamps[0],
        latest=stamps[3],
        inclusive=True,
    )
    assert [m["text"] for m in inclusive["messages"]] == ["3", "2", "1", "0"]
    assert error_of(call("conversations.history", channel=channel, latest="soon")) == (
        "invalid_ts_latest"
    )


def test_thread_replies_stay_out_of_history(call: Call, channel: str) -> None:
    parent = call("chat.postMessage", channel=channel, text="INC-1 declared")["ts"]
    call("chat.postMessage", channel=channel, text="rolled back", thread_ts=parent)

    history = call("conversations.history", channel=channel)["messages"]
    assert [m["text"] for m in history] == ["INC-1 declared"]
    assert history[0]["reply_count"] == 1 and history[0]["reply_users"] == [BOT]

    replies = call("conversations.replies", channel=channel, ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["INC-1 declared", "rolled back"]
    assert error_of(call("conversations.replies", channel=channel, ts="1.000001")) == (
        "thread_not_found"
    )


# conversations.setTopic / setPurpose


def test_set_topic(call: Call, channel: str) -> None:
    before = int(time.time())
    topic = call("conversations.setTopic", channel=channel, topic="SEV2 · commander @alice")
    assert topic["channel"]["topic"]["value"] == "SEV2 · commander @alice"
    assert topic["channel"]["topic"]["creator"] == BOT
    assert topic["channel"]["topic"]["last_set"] >= before
    info = call("conversations.info", channel=channel)["channel"]
    assert info["topic"]["value"] == "SEV2 · commander @alice"


def test_set_purpose(call: Call, channel: str) -> None:
    body = call("conversations.setPurpose", channel=channel, purpose="Fraud model outage")
    assert body["channel"]["purpose"]["value"] == "Fraud model outage"


@pytest.mark.parametrize(("method", "arg"), [("setTopic", "topic"), ("setPurpose", "purpose")])
def test_topic_and_purpose_limit_is_250(call: Call, channel: str, method: str, arg: str) -> None:
    assert call(f"conversations.{method}", channel=channel, **{arg: "x" * 250})["ok"]
    body = call(f"conversations.{method}", channel=channel, **{arg: "y" * 251})
    assert error_of(body) == "too_long"
    assert call("conversations.info", channel=channel)["channel"][arg]["value"] == "x" * 250


def test_set_topic_needs_membership(call: Call, channel: str) -> None:
    call("conversations.leave", channel=channel)
    assert error_of(call("conversations.setTopic", channel=channel, topic="x")) == (
        "not_in_channel"
    )


def test_set_topic_and_purpose_post_system_messages(
    ws: Workspace, call: Call, channel: str
) -> None:
    call("conversations.setTopic", channel=channel, topic="SEV2 <ranker> & co")
    call("conversations.setPurpose", channel=channel, purpose="Fraud model outage")

    topic, purpose = ws.messages(channel)
    assert (
        topic.items()
        >= {
            "type": "message",
            "subtype": "channel_topic",
            "user": BOT,
            "topic": "SEV2 <ranker> & co",
            "text": f"<@{BOT}|firebreak> set the channel topic: SEV2 &lt;ranker&gt; &amp; co",
        }.items()
    )
    assert purpose["subtype"] == "channel_purpose"
    assert purpose["purpose"] == "Fraud model outage"
    assert purpose["ts"] > topic["ts"]
    history = call("conversations.history", channel=channel)["messages"]
    assert [m["subtype"] for m in history] == ["channel_purpose", "channel_topic"]


def test_mentions_and_links_in_a_topic_stay_so_in_its_message(
    ws: Workspace, call: Call, channel: str
) -> None:
    # A topic is formatted like a message (the bot mentions the commander in it): escaping
    # its mentions would show them as typed ("<@U…>") in the channel's history.
    topic = "SEV2 &amp; up · commander <@U0ALICE001> · <https://grafana.example/d/1|board> <b>"
    call("conversations.setTopic", channel=channel, topic=topic)

    [message] = ws.messages(channel)
    assert message["text"] == (
        f"<@{BOT}|firebreak> set the channel topic: SEV2 &amp; up · commander <@U0ALICE001>"
        " · <https://grafana.example/d/1|board> &lt;b&gt;"
    )


def test_refused_topic_posts_nothing(ws: Workspace, call: Call, channel: str) -> None:
    call("conversations.setTopic", channel=channel, topic="y" * 251)
    assert ws.messages(channel) == []


# conversations.members


def test_members_answer_in_slacks_shape(call: Call, channel: str) -> None:
    assert call("conversations.members", channel=channel) == {
        "ok": True,
        "members": [BOT],
        "response_metadata": {"next_cursor": ""},
    }


def test_members_errors(call: Call, channel: str) -> None:
    assert error_of(call("conversations.members", channel="C0NOTHERE0")) == "channel_not_found"
    assert error_of(call("conversations.members", channel=channel, cursor="garbage!")) == (
        "invalid_cursor"
    )
    assert error_of(call("conversations.members", channel=channel, limit="many")) == (
        "invalid_limit"
    )


# conversations.open and direct messages


def test_open_answers_just_the_id_and_the_same_im_every_time(ws: Workspace, call: Call) -> None:
    first = call("conversations.open", users=ALICE)
    again = call("conversations.open", users=ALICE)

    im = first["channel"]["id"]
    assert first == {"ok": True, "channel": {"id": im}}
    assert im.startswith("D") and len(im) == 11
    assert again == {"ok": True, "no_op": True, "already_open": True, "channel": {"id": im}}
    assert call("conversations.open", users=BOB)["channel"]["id"] != im
    assert [i["user"] for i in ws.ims()] == [ALICE, BOB]


def test_open_with_return_im_answers_the_im_object(call: Call) -> None:
    before = int(time.time())
    channel = call("conversations.open", users=ALICE, return_im="true")["channel"]
    assert (
        channel.items()
        >= {
            "is_im": True,
            "user": ALICE,
            "is_org_shared": False,
            "is_archived": False,
            "is_user_deleted": False,
            "priority": 0,
        }.items()
    )
    assert channel["created"] >= before
    assert "name" not in channel and "is_channel" not in channel  # the spec's IM object


def test_open_resumes_an_im_by_its_id(call: Call, channel: str) -> None:
    im = call("conversations.open", users=ALICE)["channel"]["id"]
    resumed = call("conversations.open", channel=im, return_im=True)
    assert resumed["already_open"] is True
    assert (resumed["channel"]["id"], resumed["channel"]["user"]) == (im, ALICE)
    assert error_of(call("conversations.open", channel="D0NOTHERE0")) == "channel_not_found"
    assert error_of(call("conversations.open", channel=channel)) == (
        "method_not_supported_for_channel_type"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({}, "users_list_not_supplied"),
        ({"users": ""}, "users_list_not_supplied"),
        ({"users": "U0NOBODY01"}, "user_not_found"),
        ({"users": f"{ALICE},U0NOBODY01"}, "user_not_found"),
        ({"users": BOT}, "not_enough_users"),
        ({"users": ",".join(f"U0{n:08d}" for n in range(9))}, "too_many_users"),
        ({"users": f"{ALICE},{BOB}"}, "method_not_supported_for_channel_type"),
    ],
)
def test_open_errors(ws: Workspace, call: Call, args: dict[str, Any], error: str) -> None:
    assert error_of(call("conversations.open", **args)) == error
    assert ws.ims() == []


def test_ims_are_listed_only_when_asked_for(call: Call, channel: str) -> None:
    im = call("conversations.open", users=ALICE)["channel"]["id"]

    def ids(**args: Any) -> list[str]:
        return [c["id"] for c in call("conversations.list", **args)["channels"]]

    assert ids() == [channel]
    assert ids(types="public_channel,private_channel") == [channel]
    assert ids(types="im") == [im]
    assert ids(types="public_channel,im") == [channel, im]


def test_an_im_reads_like_a_conversation(ws: Workspace, call: Call) -> None:
    im = call("conversations.open", users=ALICE)["channel"]["id"]
    ws.add_message(im, ALICE, "who is commander?")
    call("chat.postMessage", channel=im, text="you are")

    assert call("conversations.info", channel=im)["channel"]["user"] == ALICE
    assert call("conversations.members", channel=im)["members"] == [BOT, ALICE]
    history = call("conversations.history", channel=im)["messages"]
    assert [m["text"] for m in history] == ["you are", "who is commander?"]


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("invite", {"users": BOB}),
        ("join", {}),
        ("leave", {}),
        ("archive", {}),
        ("setTopic", {"topic": "x"}),
        ("setPurpose", {"purpose": "x"}),
    ],
)
def test_channel_only_methods_refuse_an_im(
    ws: Workspace, call: Call, method: str, extra: dict[str, str]
) -> None:
    im = call("conversations.open", users=ALICE)["channel"]["id"]
    body = call(f"conversations.{method}", channel=im, **extra)
    assert error_of(body) == "method_not_supported_for_channel_type"
    assert call("conversations.members", channel=im)["members"] == [BOT, ALICE]
    assert ws.messages(im) == []
