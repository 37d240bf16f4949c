"""pins.* and reactions.add: marks people put on messages."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.store import Channel, Store

# Emoji names as Slack spells them, optionally with a skin tone ("+1::skin-tone-2").
_EMOJI_NAME = re.compile(r"[a-z0-9_+'-]+(::skin-tone-[2-6])?")


def _pinned_message(store: Store, args: Args) -> tuple[Channel, dict[str, Any]]:
    channel = store.channel(args.text("channel"))
    ts = args.text("timestamp")
    if ts is None:
        raise SlackError("no_item_specified")
    return channel, store.message(channel, ts)


def pins_add(store: Store, args: Args) -> dict[str, Any]:
    channel, message = _pinned_message(store, args)
    if message["ts"] in channel.pins:
        raise SlackError("already_pinned")
    channel.pins[message["ts"]] = (int(time.time()), store.bot_user_id)
    message["pinned_to"] = [channel.id]
    return {"ok": True}


def pins_remove(store: Store, args: Args) -> dict[str, Any]:
    channel, message = _pinned_message(store, args)
    if message["ts"] not in channel.pins:
        raise SlackError("not_pinned")
    del channel.pins[message["ts"]]
    message.pop("pinned_to", None)
    return {"ok": True}


def pins_list(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    items = [
        {
            "type": "message",
            "channel": channel.id,
            "message": store.message(channel, ts),
            "created": created,
            "created_by": created_by,
        }
        for ts, (created, created_by) in reversed(channel.pins.items())
    ]
    return {"ok": True, "items": items}


def reactions_add(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    ts = args.text("timestamp")
    if ts is None:
        raise SlackError("no_item_specified")
    name = (args.text("name") or "").strip(":")
    if not _EMOJI_NAME.fullmatch(name):
        raise SlackError("invalid_name")
    message = store.message(channel, ts)
    reactions: list[dict[str, Any]] = message.get("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reactions.append({"name": name, "users": [store.bot_user_id], "count": 1})
    elif store.bot_user_id in reaction["users"]:
        raise SlackError("already_reacted")
    else:
        reaction["users"].append(store.bot_user_id)
        reaction["count"] = len(reaction["users"])
    message["reactions"] = reactions
    return {"ok": True}
