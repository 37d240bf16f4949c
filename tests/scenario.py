"""A whole Firebreak on a real socket, with its Slack stand-in, for scenario tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.app import Runtime, build_app
from bot.config import FirebreakConfig, Settings
from bot.db.migrate import upgrade
from bot.localslack import Workspace
from tests.servers import ServerThread, free_port, slack_headers, wait_for

SIGNING_SECRET = "test-signing-secret-0f3c"
WEBHOOK_TOKEN = "test-webhook-token-7a1e"
ENV = (
    "FIREBREAK_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "FIREBREAK_SLACK_API_URL",
    "FIREBREAK_WEBHOOK_TOKEN",
    "FIREBREAK_CONFIG",
    "FIREBREAK_MAX_BODY_BYTES",
)


@dataclass
class Bot:
    http: httpx.Client
    runtime: Runtime
    workspace: Workspace

    def webhook(
        self, source: str, body: Any, *, token: str | None = WEBHOOK_TOKEN, **headers: str
    ) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(
            f"/webhooks/{source}",
            content=json.dumps(body),
            headers={"Content-Type": "application/json", **auth, **headers},
        )

    def command(
        self,
        text: str,
        *,
        user: str = "U0DEV0009",
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        body = urlencode(
            {
                "token": "unused",
                "team_id": "T0LOCAL01",
                "team_domain": "local",
                "channel_id": "C0GENERAL1",
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/incident",
                "text": text,
                "api_app_id": "A0FIREBRK1",
                "is_enterprise_install": "false",
                "response_url": "http://127.0.0.1:9/commands/unused",
                "trigger_id": "1.2.3",
            }
        ).encode()
        return self.http.post(
            "/slack/events", content=body, headers=slack_headers(secret, body, timestamp=timestamp)
        )

    def incident(self, ref: str) -> dict[str, Any]:
        response = self.http.get(f"/api/incidents/{ref}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def announced(self, ref: str, timeout: float = 10) -> dict[str, Any]:
        """Wait until the incident's channel exists and the broadcast announcement went out."""

        def ready() -> dict[str, Any] | None:
            incident = self.incident(ref)
            kinds = {t["kind"] for t in incident["timeline"]}
            return incident if "incident.announced" in kinds else None

        return wait_for(ready, timeout=timeout, what=f"{ref} announced")


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


@contextmanager
def running_bot(tmp_path: Path, config: FirebreakConfig, **settings: Any) -> Iterator[Bot]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'firebreak.db'}"
    upgrade(url)
    values = {
        "FIREBREAK_DATABASE_URL": url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        **settings,
    }
    port = free_port()
    app = build_app(Settings(**values), config, self_url=f"http://127.0.0.1:{port}")
    runtime: Runtime = app.state.firebreak
    with ServerThread(app, port) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        assert runtime.workspace is not None or settings.get("SLACK_BOT_TOKEN")
        yield Bot(http=http, runtime=runtime, workspace=runtime.workspace)  # type: ignore[arg-type]


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
