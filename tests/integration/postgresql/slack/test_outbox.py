"""tests/unit/slack/test_outbox.py on PostgreSQL."""

from tests.unit.slack.test_outbox import *  # noqa: F403
