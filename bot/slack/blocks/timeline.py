"""`/incident timeline`: the latest entries, oldest first, with links to the evidence.

Entries hold plain text (bot.incidents.timeline): each is escaped here, and mentions only the
people the entry itself records (its actor, its data's person keys)."""

from __future__ import annotations

from typing import Any

from bot.incidents.models import Incident
from bot.incidents.timeline import people_of
from bot.mrkdwn import escape_except, is_web_url, link, mention
from bot.slack.blocks.messages import section

SHOWN = 40


def timeline_blocks(incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    entries = list(incident.timeline)
    text = f"Timeline of {incident.ref} ({len(entries)} entries)"
    lines = []
    for entry in entries[-SHOWN:]:
        who = f" {mention(entry.actor)}" if entry.actor else ""  # a name that is no ID: escaped
        said = escape_except(entry.text, people_of(entry))
        line = f"`{entry.at:%Y-%m-%d %H:%M:%S}Z`{who} · {said}"
        if is_web_url(entry.link):
            line += f" {link(entry.link, 'link')}"
        lines.append(line)
    if len(entries) > SHOWN:
        lines.insert(
            0, f"_{len(entries) - SHOWN} earlier entries: GET /api/incidents/{incident.ref}_"
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}
    ]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line[:2900])
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return text, blocks[:50]
