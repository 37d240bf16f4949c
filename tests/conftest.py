from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import subscribe_flows
from bot.config import AlertsConfig, FirebreakConfig, PostmortemConfig, ServiceConfig
from bot.context import Context
from bot.db.engine import make_engine, make_sessions
from bot.events import Bus
from examples.model_service.app import build_app as build_model_service
from tests import migrated
from tests.fakes import FakeChat, FakeClock, FakeReminders
from tests.postgres import postgres_server
from tests.servers import ServerThread, free_port

_database_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    with postgres_server() as base_url:
        yield base_url


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of the test's own: SQLite unless the test is parametrized (or its
    folder's conftest says) "postgresql". tests/integration/postgresql/ runs the unit tests that
    use this fixture again on PostgreSQL."""
    return migrated_database(request, tmp_path, getattr(request, "param", "sqlite"))


def migrated_database(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> str:
    if kind == "sqlite":
        return migrated.sqlite_url(tmp_path / "firebreak.db")
    base = request.getfixturevalue("postgres")
    return migrated.postgres_url(base, f"test_{next(_database_names)}")


@pytest.fixture
def config(tmp_path: Path) -> FirebreakConfig:
    return FirebreakConfig(
        broadcast_channel="incidents",
        # The payloads' generatorURL names prometheus.example, which no test serves: the alert
        # graph's "No graph" line would be one more message everywhere. Graph tests turn it on.
        alerts=AlertsConfig(graphs=False),
        postmortem=PostmortemConfig(folder=tmp_path / "postmortems"),
        services={
            "search-ranker": ServiceConfig(
                owners=["U0ANA0001", "U0BEN0002"], runbook_url="https://runbooks.example.com/ranker"
            ),
        },
    )


@pytest.fixture
def model_service() -> Iterator[str]:
    """The example model service on a real socket, serving search-ranker's v42-bad after v41."""
    app = build_model_service(services={"search-ranker": ["v40", "v41", "v42-bad"]})
    with ServerThread(app, free_port()) as server:
        yield server.url


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def reminders() -> FakeReminders:
    return FakeReminders()


@pytest.fixture
async def ctx(
    db_url: str, config: FirebreakConfig, chat: FakeChat, clock: FakeClock, reminders: FakeReminders
) -> AsyncIterator[Context]:
    engine = make_engine(db_url)
    bus = Bus()
    built: Context = Context(
        sessions=make_sessions(engine),
        config=config,
        chat=chat,
        reminders=reminders,
        events=bus,
        clock=clock,
    )
    # The domain's own reactions, as the app wires them; chat follow-ups of intake are not
    # (they run in the background in the app: tests/scenario.py runs the whole bot for them).
    subscribe_flows(bus, built)
    yield built
    await engine.dispose()
