"""chat.* methods."""

from __future__ import annotations

from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.methods.blocks import block_problems, error_messages
from bot.localslack.store import Channel, Store

MAX_TEXT = 40_000
MAX_BLOCKS = 50
PERMALINK_HOST = "http://localslack.invalid"


def read_blocks(args: Args) -> list[dict[str, Any]] | None:
    """The `blocks` argument, validated like Slack does (error `invalid_blocks`)."""
    blocks = args.json_list("blocks", error="invalid_blocks")
    if blocks is None:
        return None
    problems = block_problems(blocks, pointer="/blocks", max_blocks=MAX_BLOCKS)
    if problems:
        raise SlackError(
            "invalid_blocks", errors=problems, response_metadata=error_messages(problems)
        )
    return blocks


def _read_text(args: Args) -> str | None:
    text = args.text("text")
    if text is not None and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text


def _content(args: Args) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    """text, blocks and attachments, checked; a message needs at least one of them."""
    blocks = read_blocks(args)
    attachments = args.json_list("attachments", error="invalid_attachments")
    text = _read_text(args)
    if text is None and not blocks and not attachments:
        raise SlackError("no_text")
    return text, blocks, attachments


def post_message(store: Store, args: Args) -> dict[str, Any]:
    ref = args.text("channel")
    # A bot token may name a person instead of a conversation: the message goes to the
    # bot's DM with them, opened on the way, and the answer names the D… conversation.
    dm_user = store.dm_user(ref)
    channel: Channel | None = None
    if dm_user is None:
        channel = store.channel(ref, by_name=True)
        if channel.is_archived:
            raise SlackError("is_archived")
        if store.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
    text, blocks, attachments = _content(args)
    if channel is None:
        channel, _ = store.open_im(str(dm_user))
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


def post_ephemeral(store: Store, args: Args) -> dict[str, Any]:
    channel = store.channel(args.text("channel"), by_name=True)
    if channel.is_archived:
        raise SlackError("is_archived")
    user = args.text("user")
    if user is None or user not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = _content(args)
    # Only `user` ever sees it, and only until they reload: it never reaches history.
    ephemeral: dict[str, Any] = {
        "type": "message",
        "ts": store.clock.next(),
        "user": user,
        "bot_id": store.bot_id,
        "text": text or "",
        "blocks": blocks or [],
    }
    if attachments:
        ephemeral["attachments"] = attachments
    thread_ts = args.text("thread_ts")
    if thread_ts is not None:
        ephemeral["thread_ts"] = thread_ts
    store.ephemeral.setdefault(channel.id, []).append(ephemeral)
    return {"ok": True, "message_ts": ephemeral["ts"]}


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
