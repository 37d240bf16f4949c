"""End to end with a real Prometheus Alertmanager, a real `firebreak serve` and the Slack stand-in.

Alertmanager groups the alert, waits group_wait, and posts its webhook (with the bearer token
from its config) to the bot, which opens the incident and its channel in the stand-in. Resolving
the alert in Alertmanager produces the resolved notification that the timeline must record.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.polling import wait_until
from tests.processes import firebreak_command, process, require_binary
from tests.servers import free_port

BOT_TOKEN = "xoxb-e2e-5d1f0c"
SIGNING_SECRET = "e2e-signing-secret"
WEBHOOK_TOKEN = "e2e-webhook-token-93ab"
API_TOKEN = "am-api-token-61c2"
API = {"Authorization": f"Bearer {API_TOKEN}"}  # what CI and dashboards send


@pytest.fixture
def slack() -> Iterator[LocalSlackServer]:
    workspace = Workspace(tokens=[BOT_TOKEN])
    workspace.add_user("U0ANA0001", "ana")
    workspace.ensure_channel("incidents")
    with LocalSlackServer(workspace) as server:
        yield server


@pytest.fixture
def bot(tmp_path: Path, slack: LocalSlackServer) -> Iterator[str]:
    config = tmp_path / "firebreak.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "broadcast_channel": "incidents",
                "services": {"search-ranker": {"owners": ["U0ANA0001"]}},
            }
        )
    )
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBREAK_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "FIREBREAK_SLACK_API_URL": slack.base_url,
        "FIREBREAK_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "FIREBREAK_API_TOKEN": API_TOKEN,
        "FIREBREAK_DATABASE_URL": f"sqlite:///{tmp_path / 'firebreak.db'}",
        "FIREBREAK_CONFIG": str(config),
    }
    url = f"http://127.0.0.1:{port}"
    with process(
        firebreak_command("serve", "--port", str(port), "--log-level", "warning"),
        log=tmp_path / "firebreak.log",
        env=env,
        ready_url=f"{url}/healthz",
    ):
        yield url


@pytest.fixture
def alertmanager(tmp_path: Path, bot: str) -> Iterator[str]:
    binary = require_binary("prometheus-alertmanager", "prometheus-alertmanager")
    (tmp_path / "token").write_text(WEBHOOK_TOKEN)
    (tmp_path / "am.yml").write_text(
        yaml.safe_dump(
            {
                "route": {
                    "receiver": "firebreak",
                    "group_by": ["alertname", "service"],
                    "group_wait": "1s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "firebreak",
                        "webhook_configs": [
                            {
                                "url": f"{bot}/webhooks/alertmanager",
                                "send_resolved": True,
                                "http_config": {
                                    "authorization": {"credentials_file": str(tmp_path / "token")}
                                },
                            }
                        ],
                    }
                ],
            }
        )
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary,
        f"--config.file={tmp_path / 'am.yml'}",
        f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with process(args, log=tmp_path / "alertmanager.log", ready_url=f"{url}/-/ready"):
        yield url


def post_alert(alertmanager: str, *, starts: datetime, ends: datetime | None) -> None:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": "RankerNDCGDrop",
            "service": "search-ranker",
            "severity": "critical",
        },
        "annotations": {"summary": "Search ranker NDCG@10 dropped below 0.61"},
        "startsAt": starts.isoformat(),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=ndcg_at_10",
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    response = httpx.post(f"{alertmanager}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def test_alert_opens_incident_channel_and_resolution_reaches_the_timeline(
    alertmanager: str, bot: str, slack: LocalSlackServer
) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    post_alert(alertmanager, starts=starts, ends=None)

    def announced() -> dict[str, Any] | None:
        listed = httpx.get(f"{bot}/api/incidents", headers=API).json()
        if not listed or not listed[0]["channel_id"]:
            return None
        incident = httpx.get(f"{bot}/api/incidents/{listed[0]['id']}", headers=API).json()
        return (
            incident
            if any(t["kind"] == "incident.announced" for t in incident["timeline"])
            else None
        )

    incident = wait_until(announced, timeout=30, what="the incident announced")
    assert incident["id"] == "INC-1"
    assert incident["severity"] == "SEV1" and incident["service"] == "search-ranker"
    assert incident["title"] == "Search ranker NDCG@10 dropped below 0.61"
    assert incident["group_key"] == '{}:{alertname="RankerNDCGDrop", service="search-ranker"}'
    [occurrence] = incident["occurrences"]
    assert occurrence["status"] == "firing"
    assert datetime.fromisoformat(occurrence["starts_at"]) == starts

    workspace = slack.workspace
    channel = workspace.channel_by_name(incident["channel_name"])
    assert channel is not None and channel["id"] == incident["channel_id"]
    assert channel["name"] == "inc-1-search-ranker-ndcg-10-dropped-below-0-61"
    [announcement] = [m for m in workspace.messages(channel["id"]) if "INC-1 ·" in m["text"]]
    assert announcement["blocks"][0]["text"]["text"].startswith("INC-1: ")
    # Every Slack call went to the configured API with the configured token.
    assert workspace.calls and {call.token for call in workspace.calls} == {BOT_TOKEN}
    assert [c.args["users"] for c in workspace.calls_to("conversations.invite")] == ["U0ANA0001"]

    post_alert(alertmanager, starts=starts, ends=datetime.now(UTC) - timedelta(seconds=1))

    def resolved() -> dict[str, Any] | None:
        current = httpx.get(f"{bot}/api/incidents/INC-1", headers=API).json()
        kinds = [t["kind"] for t in current["timeline"]]
        return current if "alerts.all_resolved" in kinds else None

    final = wait_until(resolved, timeout=30, what="the resolution on the timeline")
    assert [o["status"] for o in final["occurrences"]] == ["resolved"]
    assert [t["kind"] for t in final["timeline"]].count("alert.resolved") == 1
    assert len(httpx.get(f"{bot}/api/incidents", headers=API).json()) == 1
    assert len(workspace.calls_to("conversations.create")) == 1
