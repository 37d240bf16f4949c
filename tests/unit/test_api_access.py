"""Who may read the API, /metrics and /readyz's detail; /docs and /openapi.json are off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import FirebreakConfig
from tests.payloads import am_notification
from tests.scenario import API_TOKEN, Bot, clean_env, on_slack, running_bot
from tests.servers import tls

SLACK_TOKEN = "xoxb-api-access-1"
# Every route under /api, the deploy gate and a path that matches nothing included.
API_PATHS = (
    "/api/incidents",
    "/api/incidents/INC-1",
    "/api/incidents/INC-1/postmortem",
    "/api/freeze?service=search-ranker",
    "/api/nothing-here",
)
REALM = 'Bearer realm="firebreak-api"'


def slack_bot(tmp_path: Path, config: FirebreakConfig, **settings: Any) -> Any:
    return on_slack(tmp_path, config, token=SLACK_TOKEN, **settings)


def anonymous(bot: Bot, path: str, **headers: str) -> httpx.Response:
    """`path` without the client's Authorization header (and with `headers`)."""
    return httpx.get(f"{bot.http.base_url}{path}", headers=headers, timeout=10, verify=tls())


def test_every_api_route_needs_the_bearer_token(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with slack_bot(tmp_path, config) as bot:
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        for path in API_PATHS:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN}):
                refused = anonymous(bot, path, **headers)
                assert refused.status_code == 401, (path, headers, refused.text)
                assert refused.json()["error"] == "unauthorized"
                assert refused.headers["WWW-Authenticate"] == REALM
                assert "RankerNDCGDrop" not in refused.text
        # With it: the incident, its postmortem, the gate; and a JSON 404 for nothing.
        assert bot.http.get("/api/incidents/INC-1").json()["title"].startswith("RankerNDCGDrop")
        assert bot.http.get("/api/incidents/INC-1/postmortem").status_code == 200
        gate = bot.http.get("/api/freeze", params={"service": "search-ranker"})
        assert gate.json() == {"service": "search-ranker", "frozen": False}
        assert bot.http.get("/api/nothing-here").json()["error"] == "not_found"


def test_with_slack_and_no_api_token_the_api_is_closed(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with slack_bot(tmp_path, config, FIREBREAK_API_TOKEN=None) as bot:
        for path in (*API_PATHS, "/metrics"):
            closed = anonymous(bot, path)
            assert closed.status_code == 401, path
            assert closed.json()["message"].startswith("FIREBREAK_API_TOKEN is not set")
            assert closed.headers["WWW-Authenticate"] == REALM
        # Probes still work, and say only whether the bot is ready.
        assert anonymous(bot, "/healthz").json() == {"status": "ok"}
        assert anonymous(bot, "/readyz").json() == {"status": "ok"}


def test_metrics_need_the_token_unless_public(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with slack_bot(tmp_path, config) as bot:
        refused = anonymous(bot, "/metrics")
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == REALM
        assert "firebreak_open_incidents" not in refused.text
        assert "firebreak_open_incidents" in bot.http.get("/metrics").text
    with slack_bot(tmp_path, config, FIREBREAK_METRICS_PUBLIC="true") as bot:
        assert "firebreak_open_incidents" in anonymous(bot, "/metrics").text
        assert anonymous(bot, "/api/incidents").status_code == 401  # only /metrics is opened


def test_readyz_shows_its_detail_to_the_token_only(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with slack_bot(tmp_path, config) as bot:
        assert anonymous(bot, "/readyz").json() == {"status": "ok"}
        detail = bot.http.get("/readyz").json()
        assert {"schema", "slack_outbox", "background_tasks", "reminders"} <= set(detail)


def test_docs_and_openapi_are_off_unless_asked_for(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with slack_bot(tmp_path, config) as bot:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert bot.http.get(path).status_code == 404, path
    with slack_bot(tmp_path, config, FIREBREAK_API_DOCS="true") as bot:
        assert "/api/freeze" in bot.http.get("/openapi.json").json()["paths"]
        assert bot.http.get("/docs").status_code == 200


def test_local_mode_api_is_open_on_loopback_only_unless_a_token_is_set(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first steps: `make run`, the page, and a curl with no token."""
    clean_env(monkeypatch)
    with running_bot(tmp_path, config, FIREBREAK_API_TOKEN=None) as bot:
        assert bot.runtime.workspace is not None  # local mode: the embedded stand-in
        assert anonymous(bot, "/api/incidents").json() == []
        assert anonymous(bot, "/metrics").status_code == 200
        # A DNS-rebinding page reaches the port under its own name: refused.
        port = bot.server.port
        rebound = anonymous(bot, "/api/incidents", Host=f"evil.example:{port}")
        assert rebound.status_code == 403 and rebound.json()["error"] == "forbidden_host"
        assert anonymous(bot, "/readyz", Host=f"evil.example:{port}").json() == {"status": "ok"}
    with running_bot(tmp_path, config) as bot:  # a token set in local mode is required too
        assert anonymous(bot, "/api/incidents").status_code == 401
        assert bot.http.get("/api/incidents").status_code == 200
