"""tests/unit/alerts/test_intake.py on PostgreSQL."""

from tests.unit.alerts.test_intake import *  # noqa: F403
