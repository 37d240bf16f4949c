"""tests/unit/drills/test_drills.py on PostgreSQL."""

from tests.unit.drills.test_drills import *  # noqa: F403
