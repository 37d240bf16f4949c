"""Slash commands: the one `/incident` command and its subcommands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners.commands.incident import COMMAND, incident_command


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(incident_command)
