"""The incident channel's topic: the state of the incident at a glance.

Slack formats a topic like mrkdwn (mentions, links): people are mentioned through mention(), and
every other part is escaped (bot.mrkdwn)."""

from __future__ import annotations

from datetime import timedelta

from bot.durations import format_duration
from bot.incidents.models import Incident
from bot.mrkdwn import escape
from bot.people import mention

MAX_TOPIC = 250  # Slack's limit


def topic_for(incident: Incident, *, budget_left: timedelta | None = None) -> str:
    """e.g. `SEV1 · mitigated · commander <@U1> · budget 3m12s left`."""
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
    if budget_left is not None:
        whole = timedelta(seconds=int(budget_left.total_seconds()))
        parts.append(
            f"budget {format_duration(whole)} left"
            if whole > timedelta(0)
            else f"budget spent, {format_duration(-whole)} over"
        )
    return " · ".join(parts)[:MAX_TOPIC]
