"""Secrets never reach a log or an answer: the bot runs with every secret configured, is sent
good and bad requests and meets Slack errors, and every captured line is searched for them."""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path

import httpx
import pytest

from bot.config import FirebreakConfig, Settings
from bot.db.migrate import upgrade
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.payloads import am_alert, am_notification, grafana_notification
from tests.polling import wait_until
from tests.processes import firebreak_command, process
from tests.scenario import ENV, clean_env, running_bot
from tests.servers import free_port, slack_headers

BOT_TOKEN = "xoxb-secret-bot-token-4f1a9c"
SIGNING_SECRET = "secret-signing-8d2b7e"
WEBHOOK_TOKEN = "secret-webhook-token-6c3d0f"
GRAFANA_SECRET = "secret-grafana-hmac-1e5a2b"
DB_PASSWORD = "secret-db-password-9b4c7d"
API_TOKEN = "secret-api-token-2a7f5e"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_TOKEN, GRAFANA_SECRET, DB_PASSWORD, API_TOKEN)


def with_password(url: str) -> str:
    """The test server trusts local connections, so any password works; the bot must hide it."""
    return url.replace("firebreak@", f"firebreak:{DB_PASSWORD}@", 1)


@pytest.fixture
def slack() -> Iterator[LocalSlackServer]:
    workspace = Workspace(tokens=[BOT_TOKEN])
    for user, name in (("U0ANA0001", "ana"), ("U0BEN0002", "ben")):
        workspace.add_user(user, name)
    workspace.ensure_channel("incidents")
    with LocalSlackServer(workspace) as server:
        yield server


def environment(db_url: str, slack: LocalSlackServer) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "FIREBREAK_GRAFANA_SECRET": GRAFANA_SECRET,
        "FIREBREAK_API_TOKEN": API_TOKEN,
        "FIREBREAK_DATABASE_URL": with_password(db_url),
        "FIREBREAK_SLACK_API_URL": slack.base_url,
    }


def drive(http: httpx.Client, workspace: Workspace) -> list[httpx.Response]:
    """Good and bad requests of every kind, with Slack failing some calls meanwhile."""
    workspace.fail("conversations.invite", status=400, error="user_not_found", times=3)
    workspace.fail("chat.postMessage", status=500, retry_after=None, times=2)
    bearer = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
    grafana = json.dumps(grafana_notification()).encode()
    stamp = str(int(time.time()))
    command = b"command=%2Fincident&text=list&user_id=U0ANA0001&channel_id=C0X&team_id=T0"
    responses = [
        http.post("/webhooks/alertmanager", json=am_notification()),  # no token
        http.post(
            "/webhooks/alertmanager",
            json=am_notification(),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN[:-1]}x"},
        ),
        http.post("/webhooks/grafana", content=grafana, headers=bearer),  # unsigned
        http.post(
            "/webhooks/grafana",
            content=grafana,
            headers={
                **bearer,
                "X-Grafana-Alerting-Signature": hmac.new(
                    GRAFANA_SECRET.encode(), f"{stamp}:".encode() + grafana, sha256
                ).hexdigest(),
                "X-Grafana-Alerting-Signature-Timestamp": stamp,
            },
        ),
        http.post("/webhooks/alertmanager", content=b"{broken", headers=bearer),
        http.post("/slack/events", content=command, headers=slack_headers("guess", command)),
        http.post("/slack/events", content=command, headers=slack_headers(SIGNING_SECRET, command)),
        http.post(
            "/webhooks/alertmanager",
            json=am_notification(am_alert(fingerprint="aa01")),
            headers=bearer,
        ),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401, 200, 400, 401, 200, 200]
    for ref in ("INC-1", "INC-2"):  # the Slack work after the answers, errors and all

        def announced(ref: str = ref) -> bool:
            api = {"Authorization": f"Bearer {API_TOKEN}"}
            timeline = http.get(f"/api/incidents/{ref}", headers=api).json()["timeline"]
            return any(t["kind"] == "incident.announced" for t in timeline)

        wait_until(announced, timeout=20, what=f"{ref} announced despite Slack errors")
    assert {c.token for c in workspace.calls} == {BOT_TOKEN}  # the token really was used
    return responses


def assert_no_secret(text: str, where: str) -> None:
    assert text, f"nothing captured from {where}"
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} shows {leaked}"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_no_secret_in_logs_or_answers_in_process(
    tmp_path: Path,
    config: FirebreakConfig,
    db_url: str,
    slack: LocalSlackServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clean_env(monkeypatch)
    caplog.set_level(logging.DEBUG)
    env = environment(db_url, slack)
    upgrade(env["FIREBREAK_DATABASE_URL"])
    assert_no_secret(repr(Settings(**env)), "the settings' repr")
    with running_bot(tmp_path, config, slack=slack.workspace, **env) as bot:
        responses = drive(bot.http, slack.workspace)
        logging.getLogger("firebreak.test").info("runtime: %r", bot.runtime)
    assert any("user_not_found" in r.getMessage() for r in caplog.records)  # errors were logged
    assert_no_secret(caplog.text, "the captured log")
    assert_no_secret("\n".join(r.text for r in responses), "the answers")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_no_secret_in_the_output_of_firebreak_serve(
    tmp_path: Path, db_url: str, slack: LocalSlackServer
) -> None:
    port = free_port()
    config = tmp_path / "firebreak.yaml"
    config.write_text("services:\n  search-ranker:\n    owners: [U0ANA0001, U0BEN0002]\n")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ENV},
        **environment(db_url, slack),
        "FIREBREAK_CONFIG": str(config),
    }
    log = tmp_path / "serve.log"
    with (
        process(
            firebreak_command("serve", "--port", str(port), "--log-level", "debug"),
            log=log,
            env=env,
            ready_url=f"http://127.0.0.1:{port}/healthz",
        ) as serve,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        drive(http, slack.workspace)
    # Leaving `process` stopped it and waited for its exit: every line it wrote is in the file.
    assert serve.poll() is not None, "firebreak serve is still running"
    output = log.read_text()
    assert "DEBUG" in output and "user_not_found" in output  # it did log, verbosely
    assert_no_secret(output, "stdout and stderr of firebreak serve")
