"""Integration tests: real PostgreSQL, Alertmanager, Prometheus, MLflow, and `firebreak`
processes. Each server is started once per test run (per xdist worker) and shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import migrated_database
from tests.mlflow_server import mlflow_server


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases: what a `firebreak` process does with its store holds on each."""
    return migrated_database(request, tmp_path, request.param)


@pytest.fixture(scope="session")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server, shared by the tests of a run (each uses its own models)."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as url:
        yield url
