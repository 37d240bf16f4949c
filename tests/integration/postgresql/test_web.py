"""tests/unit/test_web.py on PostgreSQL."""

from tests.unit.test_web import *  # noqa: F403
