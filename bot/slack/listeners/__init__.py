"""Bolt listeners grouped by kind, each folder with its own register(app)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, events, views
from bot.slack.listeners.commands import incident as commands


def register(app: AsyncApp) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
