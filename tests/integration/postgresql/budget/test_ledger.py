"""tests/unit/budget/test_ledger.py on PostgreSQL."""

from tests.unit.budget.test_ledger import *  # noqa: F403
