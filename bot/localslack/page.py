"""A read-only web view of the local workspace: channels on the left, messages on the right.

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
        wanted = request.query_params.get("channel")
        selected = _select(channels, wanted)
        users = {u["id"]: u for u in workspace.users()}
        fmt = Formatter(
            users={uid: u["name"] for uid, u in users.items()},
            channels={c["id"]: c["name"] for c in channels},
        )
        counts = {c["id"]: len(workspace.messages(c["id"])) for c in channels}
        messages = workspace.messages(selected["id"]) if selected else []
        html = template.render(
            team_name=workspace.team_name,
            channels=channels,
            counts=counts,
            selected=selected,
            missing=wanted if wanted and selected is None else None,
            messages=[_message_view(m, users) for m in messages],
            fmt=fmt,
            refresh=REFRESH_SECONDS,
        )
        return HTMLResponse(html, status_code=404 if wanted and selected is None else 200)

    async def state(request: Request) -> Response:
        channels = workspace.channels()
        messages = {c["id"]: workspace.messages(c["id"]) for c in channels}
        return JSONResponse({"channels": channels, "messages": messages})

    return Starlette(routes=[Route("/", page), Route("/state.json", state)])


def _select(channels: list[dict[str, Any]], wanted: str | None) -> dict[str, Any] | None:
    if wanted:
        return next((c for c in channels if c["id"] == wanted), None)
    # The newest channel is usually the incident someone just opened.
    return channels[-1] if channels else None


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
    }
