"""The incident channel's topic: the state of the incident at a glance."""

from __future__ import annotations

from bot.incidents.models import Incident
from bot.incidents.people import mention

MAX_TOPIC = 250  # Slack's limit


def topic_for(incident: Incident) -> str:
    parts = [incident.severity, incident.status, f"commander {mention(incident.commander)}"]
    if incident.scribe:
        parts.append(f"scribe {mention(incident.scribe)}")
    if incident.handoff_to:
        parts.append(f"handoff to {mention(incident.handoff_to)} pending")
    return " · ".join(parts)[:MAX_TOPIC]
