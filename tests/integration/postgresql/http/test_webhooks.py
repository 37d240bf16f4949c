"""tests/unit/http/test_webhooks.py on PostgreSQL."""

from tests.unit.http.test_webhooks import *  # noqa: F403
