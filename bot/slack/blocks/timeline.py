"""`/incident timeline`: the latest entries, oldest first, with links to the evidence."""

from __future__ import annotations

from typing import Any

from bot.incidents.models import Incident
from bot.slack.blocks.messages import escape, section

SHOWN = 40


def timeline_blocks(incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    entries = list(incident.timeline)
    text = f"Timeline of {incident.ref} ({len(entries)} entries)"
    lines = []
    for entry in entries[-SHOWN:]:
        who = (
            f" <@{entry.actor}>"
            if entry.actor and entry.actor[:1] in "UW"
            else (f" {entry.actor}" if entry.actor else "")
        )
        line = f"`{entry.at:%Y-%m-%d %H:%M:%S}Z`{who} · {_text(entry.kind, entry.text)}"
        if entry.link and entry.link.startswith(("https://", "http://")):
            line += f" <{entry.link}|link>"
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


def _text(kind: str, text: str) -> str:
    # Responders' own words are escaped; Firebreak's texts carry deliberate <@U…> mentions.
    return escape(text) if kind in ("message", "note", "status.update") else text
