"""The unit tests that use a database (the `db_url` fixture), run again on PostgreSQL.

Each module here imports one unit test module; only its tests that take `db_url` (directly or
through `ctx`) are kept, so nothing that ignores the database runs twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import migrated_database

HERE = Path(__file__).parent


@pytest.fixture(params=["postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return migrated_database(request, tmp_path, request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ignored = [
        item
        for item in items
        if item.path.is_relative_to(HERE) and "db_url" not in getattr(item, "fixturenames", ())
    ]
    if ignored:
        config.hook.pytest_deselected(items=ignored)
        items[:] = [item for item in items if item not in ignored]
