"""files.* methods: Slack's upload flow (files.getUploadURLExternal, a POST of the bytes to
the URL it hands out, files.completeUploadExternal) and files.info.

The bytes arrive over HTTP outside the Web API, so `receive_upload` is called by the HTTP
layer (through the Workspace) rather than registered as a method.
"""

from __future__ import annotations

import copy
import mimetypes
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from bot.localslack.args import Args, SlackError
from bot.localslack.ids import new_id
from bot.localslack.methods.chat import MAX_TEXT, PERMALINK_HOST, read_blocks
from bot.localslack.store import Channel, Store, StoredFile

MAX_ALT_TXT = 1000
MAX_FILE_SIZE = 1024 * 1024 * 1024  # slack_sdk refuses more than 1 GB before asking

# filetype and pretty_type by extension, for the kinds an incident bot is likely to post.
_FILETYPES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".log": "text",
    ".csv": "csv",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".html": "html",
    ".py": "python",
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".gif": "gif",
    ".pdf": "pdf",
    ".zip": "zip",
}
_PRETTY = {
    "markdown": "Markdown (raw)",
    "text": "Plain Text",
    "csv": "CSV",
    "json": "JSON",
    "yaml": "YAML",
    "html": "HTML",
    "python": "Python",
    "binary": "Binary",
}


def _missing(name: str) -> SlackError:
    return SlackError(
        "invalid_arguments",
        response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
    )


def get_upload_url_external(store: Store, args: Args) -> dict[str, Any]:
    filename = args.text("filename")
    if filename is None:
        raise _missing("filename")
    if args.text("length") is None:
        raise _missing("length")
    length = args.integer("length", 0)
    if length < 0:
        raise SlackError("invalid_arguments")
    if length == 0:
        # As documented: "Typically only occurs when the length provided is 0."
        raise SlackError("missing_argument")
    if length > MAX_FILE_SIZE:
        raise SlackError("file_upload_size_restricted")
    alt_txt = args.text("alt_txt")
    if alt_txt is not None and len(alt_txt) > MAX_ALT_TXT:
        raise SlackError("alt_txt_too_large")
    stored = StoredFile(
        id=new_id("F", store.files),
        name=filename,
        length=length,
        user=store.bot_user_id,
        created=int(time.time()),
        alt_txt=alt_txt,
        snippet_type=args.text("snippet_type"),
    )
    store.files[stored.id] = stored
    return {"ok": True, "upload_url": upload_url(store, stored.id), "file_id": stored.id}


def upload_url(store: Store, file_id: str) -> str:
    return f"{store.api_base}/upload/{file_id}"


def receive_upload(store: Store, file_id: str, data: bytes) -> tuple[int, str]:
    """The upload URL's answer to a POST of the bytes: (HTTP status, text/plain body)."""
    stored = store.files.get(file_id)
    if stored is None or stored.completed:
        return 404, "file not found"
    if len(data) != stored.length:
        return 400, f"length mismatch: expected {stored.length} bytes, got {len(data)}"
    stored.content = data
    return 200, f"OK - {len(data)}"


def complete_upload_external(store: Store, args: Args) -> dict[str, Any]:
    listed = args.json_list("files", error="invalid_arguments")
    if not listed:
        raise _missing("files")
    chosen: list[tuple[StoredFile, str | None]] = []
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SlackError("invalid_arguments")
        stored = store.files.get(item["id"])
        # Unknown, never uploaded to, or already completed: the upload ticket finds nothing.
        if stored is None or stored.content is None or stored.completed:
            raise SlackError("file_not_found")
        title = item.get("title")
        chosen.append((stored, title if isinstance(title, str) and title else None))
    if len({s.id for s, _ in chosen}) != len(chosen):
        raise SlackError("invalid_arguments")
    channels = _share_targets(store, args)
    comment = args.text("initial_comment")
    if comment is not None and len(comment) > MAX_TEXT:
        raise SlackError("msg_too_long")
    blocks = read_blocks(args) if comment is None else None
    thread_ts = args.text("thread_ts")

    for stored, title in chosen:
        stored.info = _file_object(store, stored, title or stored.name)
    for channel in channels:
        _share(store, channel, [s for s, _ in chosen], comment, blocks, thread_ts)
    return {"ok": True, "files": [dict(s.info or {}) for s, _ in chosen]}


def _share_targets(store: Store, args: Args) -> list[Channel]:
    refs: list[str] = []
    channel_id = args.text("channel_id")
    if channel_id is not None:
        refs.append(channel_id)
    refs += [r.strip() for r in (args.text("channels") or "").split(",") if r.strip()]
    targets: list[Channel] = []
    for ref in dict.fromkeys(refs):
        channel = store.channel(ref)
        if channel.is_archived:
            raise SlackError("is_archived")
        if store.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        targets.append(channel)
    return targets


def _share(
    store: Store,
    channel: Channel,
    files: list[StoredFile],
    comment: str | None,
    blocks: list[Any] | None,
    thread_ts: str | None,
) -> None:
    message: dict[str, Any] = {
        "type": "message",
        "ts": store.clock.next(),
        "user": store.bot_user_id,
        "bot_id": store.bot_id,
        "team": store.team_id,
        "text": comment or "",
        "upload": True,
        "display_as_bot": False,
    }
    if blocks:
        message["blocks"] = blocks
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    kind = "private" if channel.is_private else "public"
    listing = "ims" if channel.is_im else "groups" if channel.is_private else "channels"
    for stored in files:
        info = stored.info
        assert info is not None  # completed before sharing
        if channel.id not in info[listing]:
            info[listing].append(channel.id)
        share: dict[str, Any] = {
            "ts": message["ts"],
            "channel_name": channel.name,
            "team_id": store.team_id,
            "share_user_id": store.bot_user_id,
            "reply_users": [],
            "reply_users_count": 0,
            "reply_count": 0,
        }
        if thread_ts is not None:
            share["thread_ts"] = thread_ts
        info["shares"].setdefault(kind, {}).setdefault(channel.id, []).append(share)
        if kind == "public":
            info["is_public"] = True
    message["files"] = [copy.deepcopy(s.info) for s in files]
    store.append_message(channel.id, message)


def _file_object(store: Store, stored: StoredFile, title: str) -> dict[str, Any]:
    mimetype = guess_mimetype(stored.name, stored.snippet_type)
    filetype = stored.snippet_type or _FILETYPES.get(PurePosixPath(stored.name).suffix.lower())
    if filetype is None:
        filetype = "text" if mimetype.startswith("text/") else "binary"
    key = f"{store.team_id}-{stored.id}"
    name = quote(stored.name, safe="")
    info: dict[str, Any] = {
        "id": stored.id,
        "created": stored.created,
        "timestamp": stored.created,
        "name": stored.name,
        "title": title,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": _PRETTY.get(filetype, filetype.upper()),
        "user": stored.user,
        "user_team": store.team_id,
        "editable": False,
        "size": len(stored.content or b""),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"{store.api_base}/files-pri/{key}/{name}",
        "url_private_download": f"{store.api_base}/files-pri/{key}/download/{name}",
        "permalink": f"{PERMALINK_HOST}/files/{stored.user}/{stored.id}/{name}",
        "channels": [],
        "groups": [],
        "ims": [],
        "shares": {},
        "comments_count": 0,
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if stored.alt_txt is not None:
        info["alt_txt"] = stored.alt_txt
    return info


def guess_mimetype(name: str, snippet_type: str | None = None) -> str:
    guessed = mimetypes.guess_type(name, strict=False)[0]
    if guessed is None:
        suffix = PurePosixPath(name).suffix.lower()
        if snippet_type is not None or _FILETYPES.get(suffix) == "text":
            return "text/plain"
        return "application/octet-stream"
    return guessed


def info(store: Store, args: Args) -> dict[str, Any]:
    stored = store.files.get(args.text("file") or "")
    if stored is None or stored.info is None:
        raise SlackError("file_not_found")
    return {
        "ok": True,
        "file": dict(stored.info),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }
