"""tests/unit/test_logs.py on PostgreSQL."""

from tests.unit.test_logs import *  # noqa: F403
