"""tests/unit/db/test_constraints.py on PostgreSQL."""

from tests.unit.db.test_constraints import *  # noqa: F403
