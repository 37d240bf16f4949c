"""Turning workspace records into what the page template draws: conversations, messages as
one person sees them, and a modal's form fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.localslack.mrkdwn import emoji
from bot.localslack.payloads import field_name, options_of


def people(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who the page may act as: everyone but bots and deactivated accounts."""
    return [u for u in users if not u.get("is_bot") and not u.get("deleted")]


def shown_name(user: dict[str, Any]) -> str:
    """How Slack names a person in a mention: display name, else real name, else handle."""
    profile = user.get("profile") or {}
    return str(
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user["name"]
    )


def members(users: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The people a typed "@name" can mention (payloads.with_mentions), for the composer's
    suggestions: handle, display name and real name, nothing else of their profile."""
    return [
        {
            "id": u["id"],
            "name": u["name"],
            "display_name": str((u.get("profile") or {}).get("display_name") or ""),
            "real_name": str(u.get("real_name") or ""),
        }
        for u in people(users)
    ]


def im_view(im: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    person = users.get(im["user"])
    return {"id": im["id"], "name": person["name"] if person else im["user"], "user": im["user"]}


def select(
    channels: list[dict[str, Any]], ims: list[dict[str, Any]], wanted: str | None
) -> dict[str, Any] | None:
    """The conversation to show, as {id, title, topic, is_im, im_user}."""
    if not wanted:
        # The newest channel is usually the incident someone just opened.
        return channel_heading(channels[-1]) if channels else None
    channel = next((c for c in channels if c["id"] == wanted), None)
    if channel is not None:
        return channel_heading(channel)
    im = next((i for i in ims if i["id"] == wanted), None)
    if im is not None:
        return {
            "id": im["id"],
            "title": im["name"],
            "topic": "",
            "is_im": True,
            "im_user": im["user"],
        }
    return None


def channel_heading(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": channel["id"],
        "title": f"#{channel['name']}",
        "topic": channel["topic"]["value"],
        "is_im": False,
        "im_user": None,
    }


def is_reply(message: dict[str, Any]) -> bool:
    """A thread reply (a parent carries its own ts as thread_ts)."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message["ts"]


def message_view(message: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    author = users.get(message.get("user", ""))
    sent = datetime.fromtimestamp(float(message["ts"])).astimezone()
    return {
        "ts": message["ts"],
        "time": sent.strftime("%H:%M:%S"),
        "when": sent.isoformat(timespec="seconds"),
        "author": author["name"] if author else message.get("user", "unknown"),
        "is_bot": bool(message.get("bot_id")),
        "text": message.get("text", ""),
        "blocks": [b for b in message.get("blocks", []) if isinstance(b, dict)],
        "edited": "edited" in message,
        "is_reply": is_reply(message),
        "thread_ts": message.get("thread_ts"),
        "reply_count": int(message.get("reply_count", 0)),
        "replies": [],
        "under_parent": False,  # drawn in its parent's thread
        "pinned": bool(message.get("pinned_to")),
        "reactions": [_reaction_view(r, users) for r in message.get("reactions", [])],
        "files": [f for f in message.get("files", []) if isinstance(f, dict)],
        "ephemeral": False,
    }


def _reaction_view(reaction: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    name = str(reaction.get("name", ""))
    who = [users[u]["name"] if u in users else u for u in reaction.get("users", [])]
    return {
        "name": name,
        "emoji": emoji(name),
        "count": reaction.get("count", len(who)),
        "who": ", ".join(who),
    }


def threaded(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies go under their parent, oldest first; `views` must be in ts order. A reply
    whose parent is not here (deleted, or never seen) stays in the channel, marked."""
    parents = {v["ts"]: v for v in views if not v["is_reply"]}
    top: list[dict[str, Any]] = []
    for view in views:
        parent = parents.get(view["thread_ts"]) if view["is_reply"] else None
        if parent is not None:
            view["under_parent"] = True
            parent["replies"].append(view)
        else:
            top.append(view)
    return top


PREVIEW_LINES = 20
PREVIEW_CHARS = 4000


# The images the page shows inline, as Slack does, and serves with their own type: raster
# formats only (an SVG can carry script), and only when the type the stand-in gave the file
# (from its name) and the bytes' signature agree.
IMAGE_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


def is_text(mimetype: str) -> bool:
    """Served and previewed as plain text: text/markdown, text/plain, text/csv…"""
    return mimetype.startswith("text/")


def image_type(mimetype: str, content: bytes | None) -> str | None:
    """The image type a file is shown and served as, or None (it downloads)."""
    signatures = IMAGE_SIGNATURES.get(mimetype)
    if signatures and content is not None and content.startswith(signatures):
        return mimetype
    return None


def file_view(file: dict[str, Any], content: bytes | None, href: str) -> dict[str, Any]:
    """A shared file as its message shows it: name, size, a download link and, for text
    files, the first lines, for images the image (the template escapes them)."""
    mimetype = str(file.get("mimetype", ""))
    preview: str | None = None
    truncated = False
    if content is not None and is_text(mimetype):
        text = content.decode("utf-8", "replace")
        lines = text.splitlines()
        preview = "\n".join(lines[:PREVIEW_LINES])
        truncated = len(lines) > PREVIEW_LINES or len(preview) > PREVIEW_CHARS
        preview = preview[:PREVIEW_CHARS]
    return {
        "id": file.get("id", ""),
        "name": file.get("name", ""),
        "title": file.get("title", ""),
        "pretty_type": file.get("pretty_type", ""),
        "size": human_size(int(file.get("size", 0))),
        "href": href,
        "preview": preview,
        "truncated": truncated,
        "image": image_type(mimetype, content) is not None,
        "available": content is not None,
    }


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}"
    return f"{size} B"  # unreachable


def ephemeral_view(
    message: dict[str, Any], users: dict[str, dict[str, Any]], bot_user_id: str
) -> dict[str, Any]:
    # The record's `user` is who may see it; the author is always the bot.
    view = message_view({**message, "user": bot_user_id}, users)
    view["ephemeral"] = True
    return view


def modal_view(view: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """A modal as the template draws it: input blocks become form fields, the rest blocks."""
    values = (view.get("state") or {}).get("values") or {}
    items: list[dict[str, Any]] = []
    known: set[str] = set()
    for index, block in enumerate(view.get("blocks") or []):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "input":
            block_id = str(block.get("block_id", ""))
            known.add(block_id)
            answered = values.get(block_id) or {}
            answer = next(iter(answered.values()), None) if answered else None
            items.append(
                {"field": _field(index, block, answer, errors.get(block_id)), "block": None}
            )
        else:
            items.append({"field": None, "block": block})
    return {
        "id": view["id"],
        "title": view.get("title"),
        "submit": view.get("submit") or {"type": "plain_text", "text": "Submit"},
        "close": view.get("close") or {"type": "plain_text", "text": "Cancel"},
        "has_inputs": bool(known),
        "items": items,
        # Errors for blocks the form does not have would otherwise go unseen.
        "other_errors": [f"{k}: {v}" for k, v in errors.items() if k not in known],
    }


def _field(
    index: int, block: dict[str, Any], answer: dict[str, Any] | None, error: str | None
) -> dict[str, Any]:
    raw = block.get("element")
    element: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = element.get("type")
    placeholder = element.get("placeholder")
    field: dict[str, Any] = {
        "name": field_name(index),
        "label": block.get("label"),
        "hint": block.get("hint"),
        "optional": bool(block.get("optional")),
        "error": error,
        "element_type": kind,
        "placeholder": placeholder.get("text", "") if isinstance(placeholder, dict) else "",
        "value": "",
        "options": [],
        "max_length": element.get("max_length"),
        "min_length": element.get("min_length"),
    }
    if kind == "plain_text_input":
        field["kind"] = "textarea" if element.get("multiline") else "text"
        if answer is not None:
            field["value"] = answer.get("value") or ""
        else:
            field["value"] = str(element.get("initial_value") or "")
    elif kind == "static_select":
        field["kind"] = "select"
        chosen = answer.get("selected_option") if answer is not None else None
        if answer is None:
            chosen = element.get("initial_option")
        wanted = chosen.get("value") if isinstance(chosen, dict) else None
        field["options"] = [
            {"index": i, "text": o.get("text"), "selected": o.get("value") == wanted}
            for i, o in enumerate(options_of(element))
        ]
    else:
        field["kind"] = "unsupported"
    return field
