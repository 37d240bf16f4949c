"""tests/unit/incidents/test_flows.py on PostgreSQL."""

from tests.unit.incidents.test_flows import *  # noqa: F403
