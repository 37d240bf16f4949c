"""tests/unit/test_incident_command.py on PostgreSQL."""

from tests.unit.test_incident_command import *  # noqa: F403
