"""tests/unit/test_scheduler.py on PostgreSQL."""

from tests.unit.test_scheduler import *  # noqa: F403
