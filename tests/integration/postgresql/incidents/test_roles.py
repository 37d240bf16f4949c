"""tests/unit/incidents/test_roles.py on PostgreSQL."""

from tests.unit.incidents.test_roles import *  # noqa: F403
