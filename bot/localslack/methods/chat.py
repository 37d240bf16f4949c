"""chat.* methods."""

from __future__ import annotations

from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.store import Store

MAX_TEXT = 40_000
MAX_BLOCKS = 50
# Per-block text limits from the Block Kit reference, checked because they are what a real
# workspace rejects first when an incident summary grows.
TEXT_LIMITS = {"section": 3000, "header": 150}
PERMALINK_HOST = "http://localslack.invalid"


def read_blocks(args: Args) -> list[dict[str, Any]] | None:
    """The `blocks` argument, validated like Slack does (error `invalid_blocks`)."""
    blocks = args.json_list("blocks", error="invalid_blocks")
    if blocks is None:
        return None
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type {where}")
            continue
        limit = TEXT_LIMITS.get(block["type"])
        text = block.get("text")
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            problems.append(f"must be less than {limit + 1} characters {where}")
    if problems:
        raise SlackError(
            "invalid_blocks",
            errors=problems,
            response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
        )
    return blocks


def _read_text(args: Args) -> str | None:
    text = args.text("text")
    if text is not None and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text


def post_message(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"), by_name=True)
    if channel.is_archived:
        raise SlackError("is_archived")
    if store.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    blocks = read_blocks(args)
    attachments = args.json_list("attachments", error="invalid_attachments")
    text = _read_text(args)
    if text is None and not blocks and not attachments:
        raise SlackError("no_text")
    message: dict[str, Any] = {
        "type": "message",
        "ts": store.clock.next(),
        "user": store.bot_user_id,
        "bot_id": store.bot_id,
        "team": store.team_id,
        "text": text or "",
    }
    if blocks:
        message["blocks"] = blocks
    if attachments:
        message["attachments"] = attachments
    thread_ts = args.text("thread_ts")
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        if args.flag("reply_broadcast"):
            message["subtype"] = "thread_broadcast"
    store.append_message(channel.id, message)
    return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": message}


def update(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    message = store.message(channel, args.text("ts"))
    if message.get("bot_id") != store.bot_id:
        raise SlackError("cant_update_message")
    blocks = read_blocks(args)
    attachments = args.json_list("attachments", error="invalid_attachments")
    text = _read_text(args)
    if text is None and blocks is None and attachments is None:
        raise SlackError("no_text")
    # As documented: what the update leaves out is kept, and an empty list removes it.
    if text is not None:
        message["text"] = text
    for key, value in (("blocks", blocks), ("attachments", attachments)):
        if value:
            message[key] = value
        elif value is not None:
            message.pop(key, None)
    message["edited"] = {"user": store.bot_user_id, "ts": store.clock.next()}
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message["ts"],
        "text": message["text"],
        "message": message,
    }


def get_permalink(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"))
    message = store.message(channel, args.text("message_ts"))
    permalink = f"{PERMALINK_HOST}/archives/{channel.id}/p{message['ts'].replace('.', '')}"
    thread_ts = message.get("thread_ts")
    if thread_ts and thread_ts != message["ts"]:
        permalink += f"?thread_ts={thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": permalink}
