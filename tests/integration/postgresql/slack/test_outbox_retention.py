"""tests/unit/slack/test_outbox_retention.py on PostgreSQL."""

from tests.unit.slack.test_outbox_retention import *  # noqa: F403
