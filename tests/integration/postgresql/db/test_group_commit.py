"""tests/unit/db/test_group_commit.py on PostgreSQL."""

from __future__ import annotations

from tests.unit.db.test_group_commit import *  # noqa: F403
