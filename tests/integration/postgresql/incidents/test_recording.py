"""tests/unit/incidents/test_recording.py on PostgreSQL."""

from tests.unit.incidents.test_recording import *  # noqa: F403
