"""Quiet-system latencies of a real `firebreak serve`: webhook → announcement, and command acks.

Starts the Slack stand-in in this process (it timestamps every call it receives) and the bot as
a separate process on SQLite, then, one at a time:
- posts N Alertmanager notifications of new groups and times each from the moment it is sent
  until the announcement reaches the stand-in's chat.postMessage in the incident's channel;
- sends N signed `/incident list` slash commands and times each response (Slack allows 3 s).
A no-op baseline in the same run: GET /healthz on the same server.

Run: .venv/bin/python -m bench.alert_to_announcement [--n 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.stats import percentiles
from bot.localslack import LocalSlackServer, Workspace
from tests.payloads import am_alert, am_notification
from tests.processes import firebreak_command, process
from tests.servers import free_port, slack_headers, wait_for

TOKEN = "xoxb-bench-0001"
SECRET = "bench-signing-secret"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    workspace = Workspace(tokens=[TOKEN])
    workspace.ensure_channel("incidents")
    with tempfile.TemporaryDirectory() as tmp, LocalSlackServer(workspace) as slack:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "FIREBREAK_SLACK_API_URL": slack.base_url,
            "FIREBREAK_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
        }
        env.pop("FIREBREAK_CONFIG", None)
        env.pop("FIREBREAK_WEBHOOK_TOKEN", None)
        with (
            process(
                firebreak_command("serve", "--port", str(port), "--log-level", "warning"),
                log=Path(tmp) / "bot.log",
                env=env,
                ready_url=f"{url}/healthz",
            ),
            httpx.Client(base_url=url, timeout=10) as http,
        ):
            webhook_ms, announce_ms, ack_ms, noop_ms = [], [], [], []
            for i in range(n):
                body = am_notification(
                    am_alert(fingerprint=f"{i:016x}", alertname=f"Bench{i}"),
                    group_key=f'{{}}:{{alertname="Bench{i}"}}',
                )
                sent = time.time()
                response = http.post("/webhooks/alertmanager", json=body)
                webhook_ms.append((time.time() - sent) * 1000)
                channel_name = f"inc-{i + 1}-bench{i}-on-search-ranker"

                def announced() -> float | None:
                    channel = workspace.channel_by_name(channel_name)
                    if channel is None:
                        return None
                    posts = [
                        c
                        for c in workspace.calls_to("chat.postMessage")
                        if c.response.get("channel") == channel["id"]
                    ]
                    return posts[0].at if posts else None

                assert response.json()["opened"], response.text
                announce_ms.append((wait_for(announced, timeout=10) - sent) * 1000)
            for _ in range(n):
                form = urlencode(
                    {
                        "command": "/incident",
                        "text": "list",
                        "user_id": "U0BENCH01",
                        "channel_id": "C0BENCH001",
                        "team_id": "T0LOCAL01",
                        "response_url": "http://127.0.0.1:9/",
                        "trigger_id": "1",
                    }
                ).encode()
                start = time.perf_counter()
                reply = http.post(
                    "/slack/events", content=form, headers=slack_headers(SECRET, form)
                )
                ack_ms.append((time.perf_counter() - start) * 1000)
                assert reply.status_code == 200, reply.text
                start = time.perf_counter()
                http.get("/healthz")
                noop_ms.append((time.perf_counter() - start) * 1000)
    print(f"quiet system, {n} samples each, sequential, SQLite, bot in its own process\n")
    print("| measurement | p50 ms | p99 ms | max ms |\n|---|---|---|---|")
    print(
        f"| webhook response (POST /webhooks/alertmanager, new group) | {percentiles(webhook_ms)} |"
    )
    print(f"| webhook sent → announcement at Slack stand-in | {percentiles(announce_ms)} |")
    print(f"| signed `/incident list` ({n} open incidents) → response | {percentiles(ack_ms)} |")
    print(f"| baseline: GET /healthz on the same server | {percentiles(noop_ms)} |")


if __name__ == "__main__":
    main()
