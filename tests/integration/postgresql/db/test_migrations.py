"""tests/unit/db/test_migrations.py on PostgreSQL."""

from tests.unit.db.test_migrations import *  # noqa: F403
