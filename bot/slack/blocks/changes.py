""" "What changed": the changes listed under an announcement (and by `/incident changes`), each
with a button that rolls it back, and the canaries and shadows still running.

A change's fields come from the change feed (outside text): escaped, its link checked
(bot.mrkdwn)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.durations import format_duration
from bot.incidents.ports import ChangeLine
from bot.mrkdwn import date, escape, is_web_url, link
from bot.slack.blocks import actions
from bot.slack.blocks.actions import button

Blocks = list[dict[str, Any]]
ENDS = {"canary_start": "Abort canary", "shadow_start": "Stop shadow"}


def change_blocks(
    *,
    incident_id: int,
    changes: Sequence[ChangeLine],
    in_progress: Sequence[ChangeLine],
    lookback: timedelta,
    buttons: bool = True,
) -> Blocks:
    """`buttons`: False once the incident is resolved (nothing left to undo from here)."""
    heading = f"*What changed* (last {format_duration(lookback)}, newest first)"
    if not changes:
        return [_text(f"{heading}\nNo changes recorded.")]
    blocks: Blocks = [_text(heading)]
    for line in changes:
        block = _text(change_text(line))
        if buttons and line.previous_version and line.kind not in ENDS:
            block["accessory"] = button(
                "Roll back this change",
                actions.CHANGE_ROLLBACK,
                f"{incident_id}:{line.change_id}",
                "danger",
            )
        blocks.append(block)
    if buttons and in_progress:
        blocks.append(
            {
                "type": "actions",
                "block_id": "rollouts",
                "elements": [
                    button(
                        f"{ENDS[line.kind]} {line.service} {line.version or ''}".strip()[:75],
                        actions.ROLLOUT_END,
                        f"{incident_id}:{line.change_id}",
                        "danger",
                    )
                    for line in in_progress
                    if line.kind in ENDS
                ],
            }
        )
    return blocks


def change_text(line: ChangeLine) -> str:
    versions = (
        f"{escape(line.previous_version)} → {escape(line.version)}"
        if line.previous_version and line.version
        else escape(line.version or "")
    )
    author = f" by {escape(line.author)}" if line.author else ""
    details = f" {link(line.link, 'details')}" if is_web_url(line.link) else ""
    flag = " :warning: *during a freeze*" if line.during_freeze else ""
    at = date(line.at, "{date_short} {time}", f"{line.at:%Y-%m-%d %H:%M} UTC")
    kind, service = escape(line.kind), escape(line.service)
    return f"`{kind}` *{service}* {versions}{author} · {at}{details}{flag}"[:3000]


def _text(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
