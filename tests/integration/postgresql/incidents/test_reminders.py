"""tests/unit/incidents/test_reminders.py on PostgreSQL."""

from tests.unit.incidents.test_reminders import *  # noqa: F403
