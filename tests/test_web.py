"""Scenario tests: the whole app over HTTP, with the embedded Slack stand-in answering as Slack."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from bot import web
from bot.alerts import intake
from bot.config import FirebreakConfig
from bot.context import Context
from bot.db.engine import make_engine, make_sessions
from bot.db.migrate import head_revision
from bot.localslack import LocalSlackServer, Workspace
from bot.playbooks.engine import Runner
from bot.slack.deps import Deps
from bot.tasks import Background
from tests.fakes import FakeChat, FakeReminders
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.scenario import Bot, clean_env, running_bot
from tests.servers import free_port, wait_for


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_alertmanager_alert_opens_an_incident_channel(bot: Bot) -> None:
    response = bot.webhook("alertmanager", am_notification())
    assert response.status_code == 200, response.text
    assert response.json() == {
        "incident": "INC-1",
        "opened": True,
        "firing": 1,
        "resolved": 0,
        "ignored": 0,
    }

    incident = bot.announced("INC-1")
    channel = bot.workspace.channel_by_name(incident["channel_name"])
    assert channel is not None and channel["id"] == incident["channel_id"]
    assert incident["channel_name"] == "inc-1-rankerndcgdrop-on-search-ranker"

    [invite] = bot.workspace.calls_to("conversations.invite")
    assert invite.args["channel"] == channel["id"]
    assert invite.args["users"] == "U0ANA0001,U0BEN0002"

    [announcement] = [m for m in bot.workspace.messages(channel["id"]) if m.get("blocks")]
    assert announcement["blocks"][0]["text"]["text"] == "INC-1: RankerNDCGDrop on search-ranker"
    broadcast = bot.workspace.channel_by_name("incidents")
    assert broadcast is not None
    assert [m["text"] for m in bot.workspace.messages(broadcast["id"])] == [announcement["text"]]

    listed = bot.http.get("/api/incidents").json()
    assert listed == [
        {
            "id": "INC-1",
            "number": 1,
            "title": "RankerNDCGDrop on search-ranker",
            "status": "investigating",
            "severity": "SEV1",
            "service": "search-ranker",
            "source": "alertmanager",
            "channel_id": channel["id"],
            "channel_name": channel["name"],
            "commander": None,
            "scribe": None,
            "created_at": listed[0]["created_at"],
            "updated_at": listed[0]["updated_at"],
            "resolved_at": None,
            "alerts": 1,
        }
    ]


def test_repeats_update_the_incident_and_resolution_is_recorded(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    bot.announced("INC-1")
    again = bot.webhook("alertmanager", am_notification())
    assert again.json()["incident"] == "INC-1" and again.json()["opened"] is False
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z"))
    assert bot.webhook("alertmanager", resolved).json()["resolved"] == 1
    assert bot.webhook("alertmanager", resolved).json()["resolved"] == 0  # a duplicate delivery

    timeline = bot.incident("INC-1")["timeline"]
    assert [t["kind"] for t in timeline].count("alerts.all_resolved") == 1
    assert len(bot.workspace.calls_to("conversations.create")) == 1
    channel_id = bot.incident("INC-1")["channel_id"]
    wait_for(
        lambda: any("All alerts" in m["text"] for m in bot.workspace.messages(channel_id)),
        what="all-resolved message in the incident channel",
    )


def test_grafana_and_generic_webhooks(bot: Bot) -> None:
    assert bot.webhook("grafana", grafana_notification()).json()["incident"] == "INC-1"
    generic = {
        "dedup_key": "feature-store-stale",
        "title": "Feature store is stale",
        "service": "search-ranker",
        "severity": "high",
        "started_at": "2026-11-27T01:00:00Z",
    }
    assert bot.webhook("generic", generic).json()["incident"] == "INC-2"
    assert bot.incident("INC-1")["severity"] == "SEV3"
    assert bot.incident("INC-2")["severity"] == "SEV2"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_webhooks_need_the_bearer_token(bot: Bot, token: str | None) -> None:
    response = bot.webhook("alertmanager", am_notification(), token=token)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert bot.http.get("/api/incidents").json() == []


def test_bad_bodies_get_a_4xx_that_names_the_problem(bot: Bot) -> None:
    auth = {"Authorization": "Bearer test-webhook-token-7a1e"}
    not_json = bot.http.post(
        "/webhooks/alertmanager",
        content=b"{nope",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_json"

    form = bot.http.post(
        "/webhooks/alertmanager",
        content=b"a=b",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415

    body = am_notification()
    del body["alerts"][0]["fingerprint"]
    invalid = bot.webhook("alertmanager", body)
    assert invalid.status_code == 422
    assert invalid.json()["detail"] == [
        {"field": "alerts[0].fingerprint", "message": "Field required"}
    ]

    wrong_version = bot.webhook("alertmanager", am_notification(version="5"))
    assert (
        wrong_version.status_code == 422 and wrong_version.json()["detail"][0]["field"] == "version"
    )

    assert bot.webhook("alertmanager", [1, 2]).status_code == 422
    deep: object = {}
    for _ in range(100):
        deep = {"a": deep}
    assert bot.webhook("alertmanager", deep).json()["error"] == "invalid_json"

    big = am_notification(padding="x" * 1_100_000)
    too_big = bot.webhook("alertmanager", big)
    assert too_big.status_code == 413 and too_big.json()["error"] == "body_too_large"

    unknown = bot.webhook("pagerduty", am_notification())
    assert unknown.status_code == 404 and "alertmanager" in unknown.json()["message"]

    assert bot.http.get("/api/incidents").json() == []


def test_api_errors_are_json(bot: Bot) -> None:
    missing = bot.http.get("/api/incidents/INC-42")
    assert missing.status_code == 404 and missing.json() == {
        "error": "not_found",
        "message": "no incident INC-42",
    }
    assert bot.http.get("/api/incidents/banana").status_code == 404
    assert bot.http.get("/api/incidents?limit=0").status_code == 422
    assert bot.http.get("/api/incidents?limit=x").json()["error"] == "invalid_request"


def test_health_and_readiness(bot: Bot) -> None:
    assert bot.http.get("/healthz").json() == {"status": "ok"}
    ready = bot.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["schema"] == head_revision()


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
        ),
        background=Background(),
        runner=cast(Runner, None),  # readiness never runs a playbook
    )
    api = FastAPI()
    api.include_router(web.health_router(deps=deps, schema_head=head_revision()))
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


def test_slash_commands_are_verified_and_answered(bot: Bot) -> None:
    help_reply = bot.command("help")
    assert help_reply.status_code == 200
    assert "/incident declare [title]" in help_reply.json()["text"]

    declared = bot.command("declare Checkout fraud scores all zero", user="U0CHO0003")
    assert declared.status_code == 200
    assert declared.json()["text"].startswith("INC-1 declared: Checkout fraud scores all zero")
    incident = bot.announced("INC-1")
    assert incident["channel_name"] == "inc-1-checkout-fraud-scores-all-zero"
    assert incident["declared_by"] == "U0CHO0003"

    listed = bot.command("list").json()
    assert "*INC-1* Checkout fraud scores all zero" in listed["text"]


def test_unsigned_or_stale_slack_requests_are_refused(bot: Bot) -> None:
    assert bot.command("declare forged", secret="not-the-secret").status_code == 401
    assert bot.command("declare replayed", timestamp=1_500_000_000).status_code == 401
    no_headers = bot.http.post(
        "/slack/events",
        content=b"command=%2Fincident&text=list",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert no_headers.status_code == 401
    assert bot.http.get("/api/incidents").json() == []


def test_slack_rate_limit_is_waited_out(bot: Bot) -> None:
    bot.workspace.fail("conversations.create", status=429, retry_after=1)
    bot.webhook("alertmanager", am_notification())
    incident = bot.announced("INC-1", timeout=15)
    creates = bot.workspace.calls_to("conversations.create")
    assert [c.status for c in creates] == [429, 200]
    assert incident["channel_id"] is not None


def test_page_shows_the_incident_channel(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    incident = bot.announced("INC-1")
    page = bot.http.get("/", params={"channel": incident["channel_id"]})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "inc-1-rankerndcgdrop-on-search-ranker" in page.text
    assert "RankerNDCGDrop on search-ranker" in page.text
    state = bot.http.get("/state.json").json()
    assert incident["channel_id"] in json.dumps(state)


def test_a_configured_slack_api_gets_every_call(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    workspace = Workspace(tokens=["xoxb-elsewhere-1"])
    workspace.add_user("U0ANA0001", "ana")
    workspace.add_user("U0BEN0002", "ben")
    workspace.ensure_channel("incidents")
    with (
        LocalSlackServer(workspace) as slack,
        running_bot(
            tmp_path,
            config,
            slack=workspace,
            SLACK_BOT_TOKEN="xoxb-elsewhere-1",
            FIREBREAK_SLACK_API_URL=slack.base_url,
        ) as bot,
    ):
        assert bot.runtime.workspace is None  # no embedded stand-in when a token is set
        assert bot.http.get("/").status_code == 404
        assert bot.command("help").status_code == 200
        bot.webhook("alertmanager", am_notification())
        bot.announced("INC-1")
        methods = [call.method for call in workspace.calls]
        assert methods[0] == "auth.test"  # Bolt checks its token against the same API
        assert {"conversations.create", "conversations.invite", "chat.postMessage"} <= set(methods)
        assert {call.token for call in workspace.calls} == {"xoxb-elsewhere-1"}


def test_database_outage_is_a_503_alertmanager_retries(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def store_down(**_: object) -> None:
        raise OperationalError("INSERT …", {}, Exception("could not connect to server"))

    monkeypatch.setattr(intake, "receive", store_down)
    response = bot.webhook("alertmanager", am_notification())
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable" and response.headers["Retry-After"] == "5"
    assert "could not connect" not in response.text  # driver details stay in the log
