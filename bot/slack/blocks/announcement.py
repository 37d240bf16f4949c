"""The announcement of a new incident, posted in its channel and in the broadcast channel.

Every field of the card is outside text (alert labels and annotations, typed titles): escaped,
except the IDs and URLs turned into mentions and links after a check (bot.mrkdwn)."""

from __future__ import annotations

from typing import Any

from bot.incidents.ports import IncidentCard
from bot.mrkdwn import channel_link, escape, is_web_url, link, mention
from bot.slack.blocks import actions
from bot.slack.blocks.actions import button
from bot.slack.blocks.changes import change_blocks
from bot.slack.blocks.model_card import model_card_blocks

SEVERITY_EMOJI = {
    "SEV1": ":red_circle:",
    "SEV2": ":large_orange_circle:",
    "SEV3": ":large_yellow_circle:",
}
MAX_SECTION_TEXT = 3000  # Block Kit's limit for a section's text
DRILL_NOTE = {
    "type": "context",
    "elements": [
        {
            "type": "mrkdwn",
            "text": ":performing_arts: *DRILL* — a rehearsal: playbooks act on a recording "
            "target, nothing in production changes, and budgets and reports leave it out.",
        }
    ],
}


def announcement(card: IncidentCard) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks). The text is what notifications and screen readers show."""
    emoji = SEVERITY_EMOJI.get(card.severity, ":white_circle:")
    drill = "DRILL · " if card.drill else ""
    ref, severity = escape(card.ref), escape(card.severity)
    text = f"{emoji} {drill}{ref} · {severity} · {escape(card.title)}"
    fields = [
        _field("Severity", severity),
        _field("Status", escape(card.status)),
        _field("Service", escape(card.service) if card.service else "unknown"),
        _field("Channel", channel_link(card.channel_id) if card.channel_id else "being created"),
    ]
    commander = mention(card.commander) if card.commander else "nobody yet"
    if card.commander and not card.acknowledged:
        commander += " (on call, not yet acknowledged)"
    if card.handoff_to:
        commander += f"; handoff to {mention(card.handoff_to)} pending"
    fields.append(_field("Commander", commander))
    fields.append(_field("Scribe", mention(card.scribe) if card.scribe else "nobody yet"))
    if card.declared_by:
        fields.append(_field("Declared by", mention(card.declared_by)))
    if card.alerts_firing:
        fields.append(_field("Alerts firing", str(card.alerts_firing)))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{drill}{card.ref}: {card.title}"[:150]},
        },
        {"type": "section", "fields": fields},
    ]
    if card.drill:
        blocks.insert(1, DRILL_NOTE)
    about = "\n".join(escape(p) for p in (card.summary, card.description) if p and p != card.title)
    if about:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": about[:MAX_SECTION_TEXT]}}
        )
    links = [
        link(url, label)
        for label, url in (("Alert source", card.source_url), ("Runbook", card.runbook_url))
        if is_web_url(url)
    ]
    if links:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}
        )
    buttons = _role_buttons(card)
    if buttons:
        blocks.append({"type": "actions", "block_id": "roles", "elements": buttons})
    if card.model is not None:
        blocks += model_card_blocks(card.model)
    if card.changes_lookback is not None:
        blocks += change_blocks(
            incident_id=card.incident_id,
            changes=card.changes,
            in_progress=card.in_progress,
            lookback=card.changes_lookback,
            buttons=card.status != "resolved",
        )
    return text, blocks


def _role_buttons(card: IncidentCard) -> list[dict[str, object]]:
    if card.status == "resolved":
        return []
    value = str(card.incident_id)
    buttons = []
    if card.commander is None or not card.acknowledged:
        buttons.append(button("I'll command", actions.CLAIM_COMMANDER, value, "primary"))
    if card.commander and not card.acknowledged:
        buttons.append(button("Acknowledge (on call)", actions.ACKNOWLEDGE, value))
    if card.scribe is None:
        buttons.append(button("I'll scribe", actions.CLAIM_SCRIBE, value))
    return buttons


def _field(label: str, value: str) -> dict[str, str]:
    """`value`: mrkdwn, escaped by the caller."""
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
