"""A whole Firebreak on a real socket, with its Slack stand-in, for scenario tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.app import Runtime, build_app
from bot.config import FirebreakConfig, Settings
from bot.context import utcnow
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests import migrated
from tests.polling import wait_until
from tests.servers import ServerThread, free_port, slack_headers, tls

SIGNING_SECRET = "test-signing-secret-0f3c"
WEBHOOK_TOKEN = "test-webhook-token-7a1e"
API_TOKEN = "test-api-token-5b9d"
ENV = (
    "FIREBREAK_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "FIREBREAK_SLACK_API_URL",
    "FIREBREAK_WEBHOOK_TOKEN",
    "FIREBREAK_GRAFANA_SECRET",
    "FIREBREAK_PAGERDUTY_SECRET",
    "SLACK_APP_TOKEN",
    "FIREBREAK_CONFIG",
    "FIREBREAK_MAX_BODY_BYTES",
    "FIREBREAK_API_TOKEN",
    "FIREBREAK_METRICS_PUBLIC",
    "FIREBREAK_API_DOCS",
    "FIREBREAK_PAGE_KEY",
    "FIREBREAK_MAX_ALERTS",
    "FIREBREAK_OUTBOX_RETENTION",
    "FIREBREAK_LIMIT_CONCURRENCY",
    "FIREBREAK_HEADER_TIMEOUT_S",
)


@dataclass
class Bot:
    http: httpx.Client
    runtime: Runtime
    workspace: Workspace
    server: ServerThread

    def webhook(
        self, source: str, body: Any, *, token: str | None = WEBHOOK_TOKEN, **headers: str
    ) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(
            f"/webhooks/{source}",
            content=json.dumps(body),
            headers={"Content-Type": "application/json", **auth, **headers},
        )

    @property
    def page_url(self) -> str:
        """What `firebreak serve` prints: the local page with its key (opening it sets the
        key's cookie, as a browser keeps it)."""
        assert self.runtime.page is not None, "no local page: a Slack token is set"
        return self.runtime.page.link(str(self.http.base_url))

    def response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        return self.workspace.response_url(
            base_url=self.runtime.slack_api_url,
            channel_id=channel,
            user_id=user,
            message_ts=message_ts,
        )

    def command(
        self,
        text: str,
        *,
        user: str = "U0DEV0009",
        channel: str = "C0GENERAL1",
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        body = urlencode(
            {
                "token": "unused",
                "team_id": "T0LOCAL01",
                "team_domain": "local",
                "channel_id": channel,
                "channel_name": "some-channel",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/incident",
                "text": text,
                "api_app_id": "A0FIREBOT",
                "is_enterprise_install": "false",
                "response_url": self.response_url(channel, user),
                "trigger_id": f"trig-{time.time_ns()}",
            }
        ).encode()
        return self.http.post(
            "/slack/events", content=body, headers=slack_headers(secret, body, timestamp=timestamp)
        )

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str = "1764200000.000001",
    ) -> httpx.Response:
        """A block_actions request, as Slack sends it when someone clicks a button."""
        payload = {
            "type": "block_actions",
            "team": {"id": "T0LOCAL01", "domain": "local"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0LOCAL01"},
            "api_app_id": "A0FIREBOT",
            "token": "unused",
            "trigger_id": f"trig-{time.time_ns()}",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": "some-channel"},
            "message": {"type": "message", "ts": message_ts, "text": ""},
            "response_url": self.response_url(channel, user, message_ts),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": "x"},
                }
            ],
        }
        return self._interactive(payload)

    def submit_view(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str
    ) -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": "T0LOCAL01", "domain": "local"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0LOCAL01"},
            "api_app_id": "A0FIREBOT",
            "token": "unused",
            "trigger_id": f"trig-{time.time_ns()}",
            "view": {**view, "state": {"values": values}},
            "response_urls": [],
        }
        return self._interactive(payload)

    def event(
        self, event: dict[str, Any], *, event_id: str, retry: int | None = None
    ) -> httpx.Response:
        body = json.dumps(
            {
                "token": "unused",
                "team_id": "T0LOCAL01",
                "api_app_id": "A0FIREBOT",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
                "authorizations": [
                    {"team_id": "T0LOCAL01", "user_id": "U0FIREBOT", "is_bot": True}
                ],
            }
        ).encode()
        headers = slack_headers(SIGNING_SECRET, body, content_type="application/json")
        if retry is not None:
            headers.update(
                {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            )
        return self.http.post("/slack/events", content=body, headers=headers)

    def _interactive(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.http.post(
            "/slack/events", content=body, headers=slack_headers(SIGNING_SECRET, body)
        )

    def incident(self, ref: str) -> dict[str, Any]:
        response = self.http.get(f"/api/incidents/{ref}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def announced(self, ref: str, timeout: float = 10) -> dict[str, Any]:
        """Wait until the incident's channel exists and the broadcast announcement went out."""

        def ready() -> dict[str, Any] | None:
            response = self.http.get(f"/api/incidents/{ref}")
            if response.status_code == 404:
                return None  # its alert may still be on the way (a page click, a background post)
            assert response.status_code == 200, response.text
            incident = dict(response.json())
            kinds = {t["kind"] for t in incident["timeline"]}
            return incident if "incident.announced" in kinds else None

        return wait_until(ready, timeout=timeout, what=f"{ref} announced")

    def busy(self) -> list[str]:
        """What the bot is still doing: its tasks started since it came up that still run
        (requests, Bolt listeners, background tasks, Slack deliveries), and the Slack calls
        waiting in its outbox (for a retry, say)."""
        backlog = self.server.run(self.runtime.outbox.backlog)
        waiting = [f"{backlog.pending} Slack call(s) in the outbox"] if backlog.pending else []
        return self.server.in_flight() + waiting


def settled(bot: Bot, *, timeout: float = 10) -> None:
    """Wait until the bot has nothing left to do (see Bot.busy), so what a test reads next is
    final: any work that could still add something (a redelivered event's listener, a
    follow-up of a webhook) has run to its end."""
    busy: list[str] = []

    def idle() -> bool:
        busy[:] = bot.busy()
        return not busy

    try:
        wait_until(idle, timeout=timeout, what="the bot to settle")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still busy with {busy}") from None


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


@contextmanager
def running_bot(
    tmp_path: Path,
    config: FirebreakConfig,
    *,
    slack: Workspace | None = None,
    socket_mode: bool = False,
    clock: Callable[[], datetime] = utcnow,
    **settings: Any,
) -> Iterator[Bot]:
    """The bot on a free port; with `slack` (and SLACK_BOT_TOKEN, FIREBREAK_SLACK_API_URL in
    settings) it talks to that stand-in instead of its embedded one. Its client sends the API
    token (FIREBREAK_API_TOKEN, API_TOKEN unless given) and carries the local page's key."""
    url = migrated.sqlite_url(tmp_path / "firebreak.db")
    values = {
        "FIREBREAK_DATABASE_URL": url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "FIREBREAK_API_TOKEN": API_TOKEN,
        **settings,
    }
    port = free_port()
    app = build_app(
        Settings(**values),
        config,
        self_url=f"http://127.0.0.1:{port}",
        socket_mode=socket_mode,
        clock=clock,
    )
    runtime: Runtime = app.state.firebreak
    token = values.get("FIREBREAK_API_TOKEN")
    page = runtime.page
    with (
        ServerThread(app, port) as server,
        httpx.Client(
            base_url=server.url,
            verify=tls(),
            timeout=10,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            cookies={page.cookie: page.key} if page else {},
        ) as http,
    ):
        workspace = runtime.workspace if runtime.workspace is not None else slack
        assert workspace is not None, "no Slack stand-in to talk to"
        yield Bot(http=http, runtime=runtime, workspace=workspace, server=server)


@contextmanager
def on_slack(
    tmp_path: Path,
    config: FirebreakConfig,
    *,
    token: str,
    users: tuple[str, ...] = (),
    **settings: Any,
) -> Iterator[Bot]:
    """The bot with a Slack token, talking to a stand-in served apart as a real workspace
    would be: no embedded page, no local mode. `users` are its members (IDs; named after them)."""
    workspace = Workspace(tokens=[token])
    for user in users:
        workspace.add_user(user, user.lower())
    workspace.ensure_channel("incidents")
    with (
        LocalSlackServer(workspace) as slack,
        running_bot(
            tmp_path,
            config,
            slack=workspace,
            SLACK_BOT_TOKEN=token,
            FIREBREAK_SLACK_API_URL=slack.base_url,
            **settings,
        ) as bot,
    ):
        yield bot
