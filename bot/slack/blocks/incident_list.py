"""`/incident list`: the open incidents, worst first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.incidents.models import Incident
from bot.mrkdwn import channel_link, escape
from bot.slack.blocks.announcement import SEVERITY_EMOJI

# Enough for any real outage; keeps the reply well inside Block Kit's 50-block limit.
MAX_LISTED = 50


def incident_list(
    incidents: Sequence[Incident], *, now: datetime
) -> tuple[str, list[dict[str, Any]]]:
    if not incidents:
        return "No open incidents.", [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": ":white_check_mark: No open incidents."},
            }
        ]
    ordered = sorted(incidents, key=lambda i: (i.severity, -i.id))
    lines = [_line(incident, now) for incident in ordered[:MAX_LISTED]]
    if len(ordered) > MAX_LISTED:
        lines.append(f"… and {len(ordered) - MAX_LISTED} more: GET /api/incidents?status=open")
    text = f"{len(ordered)} open incident{'s' if len(ordered) != 1 else ''}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text}}
    ]
    # A section holds at most 3000 characters: chunk the lines.
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(_section(chunk))
            chunk = []
        chunk.append(line)
    blocks.append(_section(chunk))
    return text + ":\n" + "\n".join(lines), blocks


def _line(incident: Incident, now: datetime) -> str:
    emoji = SEVERITY_EMOJI.get(incident.severity, ":white_circle:")
    where = channel_link(incident.channel_id) if incident.channel_id else "_channel pending_"
    title = escape(incident.title)  # titles, services: from alerts or typed, so escaped
    service = f" · {escape(incident.service)}" if incident.service else ""
    state = f"{escape(incident.severity)} · {escape(incident.status)}"
    return (
        f"{emoji} *{incident.ref}* {title} · {state}{service}"
        f" · {where} · opened {_ago(now - incident.created_at)}"
    )


def _ago(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m ago"
    return f"{seconds // 86400}d ago"


def _section(lines: list[str]) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
