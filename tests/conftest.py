from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import FirebreakConfig, ServiceConfig
from bot.context import Context
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import upgrade
from tests.fakes import FakeChat, FakeClock


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated SQLite database of the test's own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'firebreak.db'}"
    upgrade(url)
    return url


@pytest.fixture
def config() -> FirebreakConfig:
    return FirebreakConfig(
        broadcast_channel="incidents",
        services={
            "search-ranker": ServiceConfig(
                owners=["U0ANA0001", "U0BEN0002"], runbook_url="https://runbooks.example.com/ranker"
            ),
        },
    )


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def ctx(
    db_url: str, config: FirebreakConfig, chat: FakeChat, clock: FakeClock
) -> AsyncIterator[Context]:
    engine = make_engine(db_url)
    yield Context(sessions=make_sessions(engine), config=config, chat=chat, clock=clock)
    await engine.dispose()
