"""tests/unit/incidents/test_ledger.py on PostgreSQL."""

from tests.unit.incidents.test_ledger import *  # noqa: F403
