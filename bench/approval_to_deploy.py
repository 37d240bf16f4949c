"""Time from the commander's approval click to the first request reaching the deployment API.

A real `firebreak serve` (own process, SQLite) talks to the Slack stand-in and to the example
model service (both in this process, which timestamps what they receive). For each of N
incidents: `/incident run bench-rollback` (signed slash command), then the commander clicks
Approve (signed block_actions); we time from sending the click to the rollback POST arriving.
Baseline in the same run: the round trip of GET /healthz on the bot.

Run: .venv/bin/python -m bench.approval_to_deploy [--n 100]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.server import SECRET, running_bot, workspace
from bench.stats import percentiles
from bot.localslack.server import LocalSlackServer
from examples.model_service.app import build_app as build_model_service
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.servers import ServerThread, free_port, slack_headers

ANA = "U0ANA0001"
HERE = Path(__file__).parent


class Arrivals:
    """Wraps the example service: remembers when each rollback request arrived."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.times = app, []  # type: ignore[var-annotated]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/rollback"):
            self.times.append(time.time())
        await self.app(scope, receive, send)


def signed_form(http: httpx.Client, fields: dict[str, str]) -> httpx.Response:
    body = urlencode(fields).encode()
    return http.post("/slack/events", content=body, headers=slack_headers(SECRET, body))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    n = parser.parse_args().n
    space = workspace()
    space.add_user(ANA, "ana")
    arrivals = Arrivals(build_model_service(services={"search-ranker": ["v40", "v41", "v42"]}))
    service_port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalSlackServer(space) as slack,
        ServerThread(arrivals, service_port) as service,
    ):
        config = Path(tmp) / "firebreak.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "services": {
                        "search-ranker": {
                            "owners": [ANA],
                            "deploy": {"kind": "http", "url": service.url},
                        }
                    }
                }
            )
        )
        env = {"FIREBREAK_CONFIG": str(config), "FIREBREAK_PLAYBOOKS": str(HERE / "playbooks")}
        with running_bot(
            Path(tmp), slack, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", env=env
        ) as bot:
            http = bot.http
            latencies, baseline = [], []
            for i in range(n):
                group = f'{{}}:{{alertname="Bench{i}"}}'
                http.post(
                    "/webhooks/alertmanager",
                    json=am_notification(
                        am_alert(fingerprint=f"{i:016x}", alertname=f"Bench{i}"), group_key=group
                    ),
                )
                ref = f"INC-{i + 1}"
                channel = wait_until(
                    lambda: http.get(f"/api/incidents/{ref}").json()["channel_id"],
                    what=f"{ref}'s channel",
                )
                common = {
                    "team_id": "T0LOCAL01",
                    "user_id": ANA,
                    "channel_id": channel,
                    "command": "/incident",
                    "trigger_id": "t",
                    "response_url": "http://127.0.0.1:9/",
                }
                signed_form(http, {**common, "text": "commander me"})
                wait_until(
                    lambda: http.get(f"/api/incidents/{ref}").json()["commander"] == ANA,
                    what="commander",
                )
                signed_form(http, {**common, "text": "run bench-rollback"})

                def approval() -> dict[str, Any] | None:
                    for message in space.messages(channel):
                        if "Awaiting approval" in message["text"]:
                            return message
                    return None

                asked = wait_until(approval, what="the approval request")
                value = asked["blocks"][-1]["elements"][0]["value"]
                payload = {
                    "type": "block_actions",
                    "user": {"id": ANA},
                    "team": {"id": "T0LOCAL01"},
                    "channel": {"id": channel},
                    "container": {"channel_id": channel},
                    "message": asked,
                    "response_url": "http://127.0.0.1:9/",
                    "actions": [
                        {
                            "action_id": "playbook_run_approve",
                            "value": value,
                            "type": "button",
                            "block_id": "approval",
                        }
                    ],
                }
                before = len(arrivals.times)
                clicked = time.time()
                signed_form(http, {"payload": json.dumps(payload)})
                arrived = wait_until(
                    lambda: arrivals.times[before] if len(arrivals.times) > before else None,
                    what="the rollback request",
                )
                latencies.append((arrived - clicked) * 1000)
                start = time.perf_counter()
                http.get("/healthz")
                baseline.append((time.perf_counter() - start) * 1000)
    print(f"{n} approvals, one at a time, SQLite, bot in its own process\n")
    print("| measurement | p50 ms | p99 ms | max ms |\n|---|---|---|---|")
    print(f"| approve click → rollback request at the deployment API | {percentiles(latencies)} |")
    print(f"| baseline: GET /healthz on the same bot | {percentiles(baseline)} |")


if __name__ == "__main__":
    main()
