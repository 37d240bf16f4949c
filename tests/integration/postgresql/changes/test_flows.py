"""tests/unit/changes/test_flows.py on PostgreSQL."""

from tests.unit.changes.test_flows import *  # noqa: F403
