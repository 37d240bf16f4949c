"""response_url: where an app answers a slash command or a button click after its ack.

Slack's URLs accept up to 5 answers within 30 minutes. An answer is ephemeral (only the
person who acted sees it) unless `response_type` is `in_channel`; `replace_original` and
`delete_original` act on the message whose button was clicked.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from bot.localslack.store import Store

MAX_USES = 5
LIFETIME_S = 30 * 60


@dataclass
class ResponseTarget:
    channel_id: str
    user_id: str
    message_ts: str | None  # the message whose button was clicked, if any
    created: float
    uses: int = 0


def answer(store: Store, target: ResponseTarget, payload: dict[str, Any]) -> tuple[int, str]:
    """(HTTP status, body text); the body is what Slack's hooks answer: 'ok' or an error."""
    if target.uses >= MAX_USES:
        return 404, "used_url"
    if time.time() - target.created > LIFETIME_S:
        return 404, "expired_url"
    text, blocks = payload.get("text"), payload.get("blocks")
    if payload.get("delete_original"):
        target.uses += 1
        _delete(store, target)
        return 200, "ok"
    if not text and not blocks:
        return 400, "no_text"
    target.uses += 1
    message: dict[str, Any] = {
        "type": "message",
        "ts": store.clock.next(),
        "bot_id": store.bot_id,
        "text": text or "",
        "blocks": blocks or [],
    }
    if payload.get("replace_original") and target.message_ts:
        _replace(store, target, message)
    elif payload.get("response_type") == "in_channel":
        store.append_message(target.channel_id, {**message, "user": store.bot_user_id})
    else:
        store.ephemeral.setdefault(target.channel_id, []).append(
            {**message, "user": target.user_id}
        )
    return 200, "ok"


def _replace(store: Store, target: ResponseTarget, message: dict[str, Any]) -> None:
    for kept in (
        store.messages.get(target.channel_id, []),
        store.ephemeral.get(target.channel_id, []),
    ):
        for original in kept:
            if original["ts"] == target.message_ts:
                original.update(text=message["text"], blocks=message["blocks"])
                return


def _delete(store: Store, target: ResponseTarget) -> None:
    for kept in (
        store.messages.get(target.channel_id, []),
        store.ephemeral.get(target.channel_id, []),
    ):
        kept[:] = [m for m in kept if m["ts"] != target.message_ts]


def new_token() -> str:
    return secrets.token_urlsafe(16)
