"""Events API: messages responders pin, or flag with the timeline emoji, join the timeline."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.events.timeline import pin_added, reaction_added


def register(app: AsyncApp) -> None:
    app.event("pin_added")(pin_added)
    app.event("reaction_added")(reaction_added)
