"""api.test, auth.test and users.*: who is calling and who is in the workspace."""

from __future__ import annotations

import time
from typing import Any

from bot.localslack.args import Args, SlackError
from bot.localslack.methods.paging import paginate
from bot.localslack.store import Store

WORKSPACE_URL = "http://localslack.invalid/"


def api_test(store: Store, args: Args) -> dict[str, Any]:
    # Slack echoes the arguments and fails on purpose when asked to with `error`.
    echoed = args.as_dict()
    body: dict[str, Any] = {"ok": True}
    error = args.text("error")
    if error is not None:
        body = {"ok": False, "error": error}
    if echoed:
        body["args"] = echoed
    return body


def auth_test(store: Store, args: Args) -> dict[str, Any]:
    bot = store.users[store.bot_user_id]
    return {
        "ok": True,
        "url": WORKSPACE_URL,
        "team": store.team_name,
        "user": bot["name"],
        "team_id": store.team_id,
        "user_id": store.bot_user_id,
        "bot_id": store.bot_id,
        "is_enterprise_install": False,
    }


def info(store: Store, args: Args) -> dict[str, Any]:
    user = store.users.get(args.text("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user}


def list_(store: Store, args: Args) -> dict[str, Any]:
    page, next_cursor = paginate(list(store.users.values()), lambda u: str(u["id"]), args)
    return {
        "ok": True,
        "members": page,
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def lookup_by_email(store: Store, args: Args) -> dict[str, Any]:
    email = (args.text("email") or "").strip().lower()
    for user in store.users.values():
        known = user["profile"].get("email")
        if email and isinstance(known, str) and known.lower() == email:
            return {"ok": True, "user": user}
    raise SlackError("users_not_found")
