"""tests/unit/incidents/test_impact.py on PostgreSQL."""

from tests.unit.incidents.test_impact import *  # noqa: F403
