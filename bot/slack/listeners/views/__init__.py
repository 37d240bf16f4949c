"""Modal submissions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.blocks.actions import DECLARE_VIEW
from bot.slack.listeners.views.declare import declare_submitted


def register(app: AsyncApp) -> None:
    app.view(DECLARE_VIEW)(declare_submitted)
