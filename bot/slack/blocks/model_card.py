"""The model card under an announcement: the live version of the affected service, the one
before it and since when it is live, as its deployment target told it when the incident opened.

Versions and the reason a target could not be read come from outside (a deployment API, a
model registry): escaped; a version is shown as code, so `*` or `_` in it style nothing."""

from __future__ import annotations

from typing import Any

from bot.incidents.ports import ModelCard
from bot.mrkdwn import date, escape

MAX_VERSION = 100  # characters of a version shown (Block Kit's fields hold 2000)
MAX_REASON = 500


def model_card_blocks(card: ModelCard) -> list[dict[str, Any]]:
    service = escape(card.service)
    if card.unread is not None:
        return [_line(f"*Model card*: {escape(card.unread[:MAX_REASON])}")]
    if card.live is None:
        return [_line(f"*Model card*: {service}'s deployment target reports no live version")]
    read = date(card.read_at, "{time}", f"{card.read_at:%H:%M} UTC")
    if card.live_since is not None:
        since = date(
            card.live_since, "{date_short} {time}", f"{card.live_since:%Y-%m-%d %H:%M} UTC"
        )
        since += f" ({escape(card.since_kind)})" if card.since_kind else ""
    else:
        since = "not in the change feed"
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Model card* · {service}, as its deployment target said at {read}",
            },
            "fields": [
                _field("Live", _version(card.live)),
                _field("Before it", _version(card.previous) if card.previous else "none known"),
                _field("Live since", since),
            ],
        }
    ]


def _version(name: str) -> str:
    """A version as code; escaped, and as plain text if it holds a backtick (which would end
    the code early)."""
    shown = escape(name[:MAX_VERSION])
    return shown if "`" in shown else f"`{shown}`"


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def _line(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f":grey_question: {text}"}]}
