"""tests/unit/incidents/test_intake.py on PostgreSQL."""

from tests.unit.incidents.test_intake import *  # noqa: F403
