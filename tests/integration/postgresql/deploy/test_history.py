"""tests/unit/deploy/test_history.py on PostgreSQL."""

from tests.unit.deploy.test_history import *  # noqa: F403
