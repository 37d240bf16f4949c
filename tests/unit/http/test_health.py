"""Health and readiness (bot/http/health.py): the whole app over HTTP, or the router alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI

from bot.config import FirebreakConfig
from bot.context import Context
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import head_revision
from bot.events import Bus
from bot.http.health import health_router
from bot.oncall import Rotation
from bot.playbooks.engine import Runner
from bot.scheduler import ReminderScheduler
from bot.slack.deps import Deps
from bot.slack.outbox import Outbox
from bot.tasks import Background
from tests.fakes import FakeChat, FakeReminders
from tests.payloads import am_notification
from tests.scenario import Bot, clean_env, running_bot, settled
from tests.servers import free_port


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_health_and_readiness(bot: Bot) -> None:
    assert bot.http.get("/healthz").json() == {"status": "ok"}
    ready = bot.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["schema"] == head_revision()


def test_inviting_someone_already_in_the_channel_is_no_failure(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A normal run: the on-call person is also an owner of the service, so the channel invites
    them with the owners, then again as its commander. Slack answers `already_in_channel`,
    which is what Firebreak wanted: /readyz counts no failed Slack call."""
    clean_env(monkeypatch)
    config.services["search-ranker"].oncall = Rotation(users=["U0ANA0001"])
    with running_bot(tmp_path, config) as bot:
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        assert bot.announced("INC-1")["commander"] == "U0ANA0001"
        settled(bot)
        invites = bot.workspace.calls_to("conversations.invite")
        assert [c.response.get("error") for c in invites] == [None, "already_in_channel"]
        ready = bot.http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["slack_outbox"] == {"pending": 0, "oldest_seconds": None, "failed": 0}


def test_not_ready_while_the_schema_is_behind_the_code(bot: Bot, tmp_path: Path) -> None:
    head = head_revision()
    with sqlite3.connect(tmp_path / "firebreak.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0006'")
    behind = bot.http.get("/readyz")
    assert behind.status_code == 503
    assert behind.json() == {
        "status": "unavailable",
        "reason": f"the database schema is at 0006, this Firebreak needs {head}: "
        "run `firebreak migrate`",
        "database": "ok",
        "schema": ["0006"],
        "schema_head": head,
    }
    with sqlite3.connect(tmp_path / "firebreak.db") as db:
        db.execute("DROP TABLE alembic_version")
    never = bot.http.get("/readyz")
    assert never.status_code == 503 and never.json()["schema"] == []
    assert never.json()["reason"].startswith("the database schema is at no schema")


async def test_not_ready_while_the_database_is_unreachable() -> None:
    # Nothing listens on a port just freed: every connection is refused.
    engine = make_engine(f"postgresql+asyncpg://firebreak@127.0.0.1:{free_port()}/none")
    deps = Deps(
        ctx=Context(
            sessions=make_sessions(engine),
            config=FirebreakConfig(),
            chat=FakeChat(),
            reminders=FakeReminders(),
            events=Bus(),
        ),
        background=Background(),
        runner=cast(Runner, None),  # readiness never runs a playbook
    )
    api = FastAPI()
    api.include_router(
        health_router(
            deps=deps,
            # Never reached: readiness stops at the unreachable database.
            outbox=cast(Outbox, None),
            scheduler=cast(ReminderScheduler, None),
            schema_head=head_revision(),
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="http://bot"
    ) as http:
        answer = await http.get("/readyz")
    await engine.dispose()
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "reason": "the database is unreachable",
        "database": "unreachable",
    }
