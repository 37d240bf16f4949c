"""The announcement of a new incident, posted in its channel and in the broadcast channel."""

from __future__ import annotations

from typing import Any

from bot.incidents.ports import IncidentCard

SEVERITY_EMOJI = {
    "SEV1": ":red_circle:",
    "SEV2": ":large_orange_circle:",
    "SEV3": ":large_yellow_circle:",
}
MAX_SECTION_TEXT = 3000  # Block Kit's limit for a section's text


def announcement(card: IncidentCard) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks). The text is what notifications and screen readers show."""
    emoji = SEVERITY_EMOJI.get(card.severity, ":white_circle:")
    text = f"{emoji} {card.ref} · {card.severity} · {_escape(card.title)}"
    fields = [
        _field("Severity", card.severity),
        _field("Status", card.status),
        _field("Service", card.service or "unknown"),
        _field("Channel", f"<#{card.channel_id}>" if card.channel_id else "being created"),
    ]
    if card.declared_by:
        fields.append(_field("Declared by", f"<@{card.declared_by}>"))
    if card.alerts_firing:
        fields.append(_field("Alerts firing", str(card.alerts_firing)))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{card.ref}: {card.title}"[:150]},
        },
        {"type": "section", "fields": fields},
    ]
    about = "\n".join(_escape(p) for p in (card.summary, card.description) if p and p != card.title)
    if about:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": about[:MAX_SECTION_TEXT]}}
        )
    links = [
        _link(url, label)
        for label, url in (("Alert source", card.source_url), ("Runbook", card.runbook_url))
        if _is_web(url)
    ]
    if links:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}
        )
    return text, blocks


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, so alert text cannot forge links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_web(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("https://", "http://"))


def _link(url: str | None, label: str) -> str:
    # '|' and '>' end a Slack link early; percent-encode them rather than lose the link.
    safe = str(url).replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe}|{label}>"
