"""The incident channel's topic: the state of the incident at a glance.

It holds what changes rarely (severity, status, who commands), so it is set only when one of
those changes: every change of topic is a "set the channel topic" message in the channel. The
budget countdown, which changes on every tick, lives in the pinned budget message instead
(bot.incidents.sync).

Slack formats a topic like mrkdwn (mentions, links): people are mentioned through mention(), and
every other part is escaped (bot.mrkdwn)."""

from __future__ import annotations

from bot.incidents.models import Incident
from bot.mrkdwn import escape
from bot.people import mention

MAX_TOPIC = 250  # Slack's limit


def topic_for(incident: Incident) -> str:
    """e.g. `SEV1 · mitigated · commander <@U1>`."""
    parts = ["DRILL"] if incident.drill else []
    parts += [
        escape(incident.severity),
        escape(incident.status),
        f"commander {mention(incident.commander)}",
    ]
    if incident.scribe:
        parts.append(f"scribe {mention(incident.scribe)}")
    if incident.handoff_to:
        parts.append(f"handoff to {mention(incident.handoff_to)} pending")
    return " · ".join(parts)[:MAX_TOPIC]
