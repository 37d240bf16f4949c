"""tests/unit/playbooks/test_engine.py on PostgreSQL."""

from tests.unit.playbooks.test_engine import *  # noqa: F403
