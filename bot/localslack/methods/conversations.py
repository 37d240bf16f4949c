"""conversations.* methods."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.ids import ts_key
from bot.localslack.methods.paging import paginate
from bot.localslack.store import Channel, Store, check_channel_name

MAX_INVITEES = 1000
MAX_TOPIC = 250  # the same limit applies to purposes
MAX_DM_USERS = 8  # conversations.open takes 1 (an IM) to 8 (a multi-person DM) users
# What stays as set in the "set the channel topic" message: mentions (<@U…>, <#C…>, <!here>),
# links, and the entities Slack text already carries; any other <, > or & is escaped.
_KEPT = re.compile(r"<(?:[@#!]|https?://|mailto:)[^<>]*>|&(?:amp|lt|gt);")


def create(store: Store, args: Args) -> dict[str, Any]:
    name = check_channel_name(args.text("name"))
    if store.channel_named(name) is not None:
        raise SlackError("name_taken")
    channel = store.create_channel(
        name, is_private=args.flag("is_private"), creator=store.bot_user_id
    )
    return {"ok": True, "channel": channel.to_slack(store.bot_user_id)}


def _not_im(channel: Channel) -> Channel:
    """Refuse channel-only methods (invite, join, leave, archive, topic…) on a DM."""
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    return channel


def _member_channel(store: Store, args: Args) -> Channel:
    """The channel, checked as Slack does before a member-only change."""
    channel = _not_im(store.channel(args.text("channel")))
    if channel.is_archived:
        raise SlackError("is_archived")
    if store.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def invite(store: Store, args: Args) -> dict[str, Any]:
    channel = _member_channel(store, args)
    raw = args.text("users") or ""
    invitees = list(dict.fromkeys(u.strip() for u in raw.split(",") if u.strip()))
    if not invitees:
        raise SlackError("no_user")
    if len(invitees) > MAX_INVITEES:
        raise SlackError("too_many_users")
    problems = [
        {"user": user_id, "ok": False, "error": error}
        for user_id in invitees
        if (error := _invite_problem(store, channel, user_id))
    ]
    refused = {p["user"] for p in problems}
    welcome = [u for u in invitees if u not in refused]
    # Without `force` one bad invitee fails the whole call; with it the rest still join.
    if problems and not (args.flag("force") and welcome):
        raise SlackError(str(problems[0]["error"]), errors=problems)
    channel.members.extend(welcome)
    body: dict[str, Any] = {"ok": True, "channel": channel.to_slack(store.bot_user_id)}
    if problems:
        body["errors"] = problems
    return body


def _invite_problem(store: Store, channel: Channel, user_id: str) -> str | None:
    if user_id == store.bot_user_id:
        return "cant_invite_self"
    if user_id not in store.users:
        return "user_not_found"
    if user_id in channel.members:
        return "already_in_channel"
    return None


def join(store: Store, args: Args) -> dict[str, Any]:
    channel = _not_im(store.channel(args.text("channel")))
    if channel.is_archived:
        raise SlackError("is_archived")
    if store.bot_user_id in channel.members:
        # Joining twice succeeds, with a warning, as on Slack.
        return {
            "ok": True,
            "channel": channel.to_slack(store.bot_user_id),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(store.bot_user_id)
    return {"ok": True, "channel": channel.to_slack(store.bot_user_id)}


def leave(store: Store, args: Args) -> dict[str, Any]:
    channel = _not_im(store.channel(args.text("channel")))
    if channel.is_archived:
        raise SlackError("is_archived")
    if store.bot_user_id not in channel.members:
        return {"ok": True, "not_in_channel": True}  # Slack's answer, not an error
    if channel.is_private and len(channel.members) == 1:
        raise SlackError("last_member")
    channel.members.remove(store.bot_user_id)
    return {"ok": True}


def archive(store: Store, args: Args) -> dict[str, Any]:
    channel = _not_im(store.channel(args.text("channel")))
    if channel.is_archived:
        raise SlackError("already_archived")
    channel.is_archived = True
    return {"ok": True}


def open_(store: Store, args: Args) -> dict[str, Any]:
    channel_ref = args.text("channel")
    users = [u.strip() for u in (args.text("users") or "").split(",") if u.strip()]
    if channel_ref is not None and not users:
        # Resuming a DM by its ID; a channel's ID is not a DM.
        im = store.channel(channel_ref)
        already_open = True
        if not im.is_im:
            raise SlackError("method_not_supported_for_channel_type")
    else:
        if not users:
            raise SlackError("users_list_not_supplied")
        # "Don't include the ID of the user you're calling on behalf of - we do that for you."
        users = [u for u in users if u != store.bot_user_id]
        if not users:
            raise SlackError("not_enough_users")
        if len(users) > MAX_DM_USERS:
            raise SlackError("too_many_users")
        unknown = [u for u in users if u not in store.users]
        if unknown:
            raise SlackError("user_not_found")
        if len(set(users)) > 1:
            # Multi-person DMs (mpim) are not modelled by the stand-in.
            raise SlackError(
                "method_not_supported_for_channel_type",
                localslack="multi-person DMs are not modelled by the local stand-in",
            )
        im, already_open = store.open_im(users[0])
    # As documented: just the ID unless return_im asks for the whole conversation.
    shown = im.to_slack(store.bot_user_id) if args.flag("return_im") else {"id": im.id}
    body: dict[str, Any] = {"ok": True}
    if already_open:
        body |= {"no_op": True, "already_open": True}
    return body | {"channel": shown}


def _kind(channel: Channel) -> str:
    """The conversations.list `types` value a conversation falls under."""
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def list_(store: Store, args: Args) -> dict[str, Any]:
    types = {t.strip() for t in (args.text("types") or "public_channel").split(",")}
    exclude_archived = args.flag("exclude_archived")
    matching = [
        c
        for c in store.channels.values()
        if _kind(c) in types
        and not (c.is_private and store.bot_user_id not in c.members)
        and not (exclude_archived and c.is_archived)
    ]
    page, next_cursor = paginate(matching, lambda c: c.id, args)
    return {
        "ok": True,
        "channels": [c.to_slack(store.bot_user_id) for c in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def info(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    return {"ok": True, "channel": channel.to_slack(store.bot_user_id)}


def members(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    page, next_cursor = paginate(channel.members, lambda u: u, args)
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}


def history(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    latest = _ts_bound(args, "latest", "invalid_ts_latest")
    oldest = _ts_bound(args, "oldest", "invalid_ts_oldest")
    inclusive = args.flag("inclusive")

    def in_range(message: dict[str, Any]) -> bool:
        key = ts_key(message["ts"])
        after = oldest is None or key > oldest or (inclusive and key == oldest)
        before = latest is None or key < latest or (inclusive and key == latest)
        return after and before

    # Thread replies live in conversations.replies, not in the channel's history.
    top_level = [
        m
        for m in reversed(store.messages[channel.id])
        if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
    ]
    page, next_cursor = paginate(
        [m for m in top_level if in_range(m)],
        lambda m: str(m["ts"]),
        args,
        max_limit=999,
    )
    return {
        "ok": True,
        "messages": page,
        "has_more": next_cursor != "",
        "pin_count": len(channel.pins),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _ts_bound(args: Args, name: str, error: str) -> tuple[int, int] | None:
    value = args.text(name)
    if value is None:
        return None
    try:
        return ts_key(value)
    except ValueError:
        raise SlackError(error) from None


def replies(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    ts = args.text("ts")
    thread = [
        m
        for m in store.messages[channel.id]
        if m["ts"] == ts or (m.get("thread_ts") == ts and ts is not None)
    ]
    if not thread or thread[0]["ts"] != ts:
        raise SlackError("thread_not_found")
    page, next_cursor = paginate(thread, lambda m: str(m["ts"]), args, default_limit=1000)
    return {
        "ok": True,
        "messages": page,
        "has_more": next_cursor != "",
        "response_metadata": {"next_cursor": next_cursor},
    }


def set_topic(store: Store, args: Args) -> dict[str, Any]:
    channel = _member_channel(store, args)
    channel.topic = _text_setting(store, args.text("topic"))
    _announce(store, channel, "topic", channel.topic["value"])
    return {"ok": True, "channel": channel.to_slack(store.bot_user_id)}


def set_purpose(store: Store, args: Args) -> dict[str, Any]:
    channel = _member_channel(store, args)
    channel.purpose = _text_setting(store, args.text("purpose"))
    _announce(store, channel, "purpose", channel.purpose["value"])
    return {"ok": True, "channel": channel.to_slack(store.bot_user_id)}


def _announce(store: Store, channel: Channel, setting: str, value: str) -> None:
    """The channel_topic / channel_purpose message Slack posts into the channel's history."""
    bot = store.bot_user_id
    name = store.users[bot]["name"]
    shown = _slack_text(value)
    message = {
        "type": "message",
        "subtype": f"channel_{setting}",
        "ts": store.clock.next(),
        "user": bot,
        setting: value,
        "text": f"<@{bot}|{name}> set the channel {setting}: {shown}",
    }
    store.append_message(channel.id, message)


def _slack_text(value: str) -> str:
    """A topic (or purpose) as message text. It is formatted like a message (the bot mentions the
    commander in it): its mentions must stay mentions there, not show as typed."""
    parts: list[str] = []
    position = 0
    for kept in _KEPT.finditer(value):
        parts.append(_escape(value[position : kept.start()]))
        parts.append(kept.group(0))
        position = kept.end()
    parts.append(_escape(value[position:]))
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_setting(store: Store, value: str | None) -> dict[str, Any]:
    if value is not None and len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    return {"value": value or "", "creator": store.bot_user_id, "last_set": int(time.time())}
