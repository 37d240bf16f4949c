"""tests/unit/changes/test_registry.py on PostgreSQL."""

from tests.unit.changes.test_registry import *  # noqa: F403
