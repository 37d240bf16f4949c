"""tests/unit/incidents/test_lifecycle.py on PostgreSQL."""

from tests.unit.incidents.test_lifecycle import *  # noqa: F403
