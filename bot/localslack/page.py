"""A read-only web view of the local workspace: channels and direct messages on the left,
the selected conversation's messages (ephemeral ones included, marked) on the right.

In embedded mode the bot mounts this app at `/`, so the page is `/` and its JSON twin is
`/state.json`; the routes here are relative to wherever it is mounted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.localslack.ids import ts_key
from bot.localslack.mrkdwn import Formatter, safe_url
from bot.localslack.state import Workspace

TEMPLATES = Path(__file__).parent / "templates"
REFRESH_SECONDS = 3


def build_page(workspace: Workspace) -> Starlette:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    env.globals["safe_url"] = safe_url
    template = env.get_template("workspace.html")

    async def page(request: Request) -> Response:
        channels = workspace.channels()
        users = {u["id"]: u for u in workspace.users()}
        ims = [_im_view(im, users) for im in workspace.ims()]
        wanted = request.query_params.get("channel")
        selected = _select(channels, ims, wanted)
        fmt = Formatter(
            users={uid: u["name"] for uid, u in users.items()},
            channels={c["id"]: c["name"] for c in channels},
        )
        counts = {c["id"]: len(workspace.messages(c["id"])) for c in [*channels, *ims]}
        messages: list[dict[str, Any]] = []
        if selected:
            messages = [_message_view(m, users) for m in workspace.messages(selected["id"])]
            messages += [
                _ephemeral_view(m, users, workspace.bot_user_id)
                for m in workspace.ephemeral(selected["id"])
            ]
            messages.sort(key=lambda m: ts_key(m["ts"]))
        html = template.render(
            team_name=workspace.team_name,
            channels=channels,
            ims=ims,
            counts=counts,
            selected=selected,
            missing=wanted if wanted and selected is None else None,
            messages=messages,
            fmt=fmt,
            refresh=REFRESH_SECONDS,
        )
        return HTMLResponse(html, status_code=404 if wanted and selected is None else 200)

    async def state(request: Request) -> Response:
        channels = workspace.channels()
        ims = workspace.ims()
        ids = [c["id"] for c in [*channels, *ims]]
        return JSONResponse(
            {
                "channels": channels,
                "ims": ims,
                "messages": {i: workspace.messages(i) for i in ids},
                "ephemeral": {i: workspace.ephemeral(i) for i in ids},
                "views": workspace.views(),
            }
        )

    return Starlette(routes=[Route("/", page), Route("/state.json", state)])


def _im_view(im: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    person = users.get(im["user"])
    return {"id": im["id"], "name": person["name"] if person else im["user"]}


def _select(
    channels: list[dict[str, Any]], ims: list[dict[str, Any]], wanted: str | None
) -> dict[str, Any] | None:
    """The conversation to show, as {id, title, topic, is_im}."""
    if not wanted:
        # The newest channel is usually the incident someone just opened.
        return _channel_heading(channels[-1]) if channels else None
    channel = next((c for c in channels if c["id"] == wanted), None)
    if channel is not None:
        return _channel_heading(channel)
    im = next((i for i in ims if i["id"] == wanted), None)
    if im is not None:
        return {"id": im["id"], "title": im["name"], "topic": "", "is_im": True}
    return None


def _channel_heading(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": channel["id"],
        "title": f"#{channel['name']}",
        "topic": channel["topic"]["value"],
        "is_im": False,
    }


def _message_view(message: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    author = users.get(message.get("user", ""))
    sent = datetime.fromtimestamp(float(message["ts"])).astimezone()
    thread_ts = message.get("thread_ts")
    return {
        "ts": message["ts"],
        "time": sent.strftime("%H:%M:%S"),
        "when": sent.isoformat(timespec="seconds"),
        "author": author["name"] if author else message.get("user", "unknown"),
        "is_bot": bool(message.get("bot_id")),
        "text": message.get("text", ""),
        "blocks": [b for b in message.get("blocks", []) if isinstance(b, dict)],
        "edited": "edited" in message,
        "is_reply": bool(thread_ts) and thread_ts != message["ts"],
        "pinned": bool(message.get("pinned_to")),
        "reactions": message.get("reactions", []),
        "visible_to": None,
    }


def _ephemeral_view(
    message: dict[str, Any], users: dict[str, dict[str, Any]], bot_user_id: str
) -> dict[str, Any]:
    # The record's `user` is who may see it; the author is always the bot.
    recipient = users.get(message["user"])
    view = _message_view({**message, "user": bot_user_id}, users)
    view["visible_to"] = recipient["name"] if recipient else message["user"]
    return view
