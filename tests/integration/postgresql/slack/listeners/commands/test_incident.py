"""tests/unit/slack/listeners/commands/test_incident.py on PostgreSQL."""

from tests.unit.slack.listeners.commands.test_incident import *  # noqa: F403
