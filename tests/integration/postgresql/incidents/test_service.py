"""tests/unit/incidents/test_service.py on PostgreSQL."""

from tests.unit.incidents.test_service import *  # noqa: F403
