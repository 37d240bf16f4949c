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
import tempfile
import time
from pathlib import Path

from bench.server import Bot, running_bot, workspace
from bench.stats import percentiles
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until


def announced_at(space: Workspace, channel_id: str) -> float | None:
    """When the stand-in received the first chat.postMessage into the channel."""
    return first_posts(space).get(channel_id)


def first_posts(space: Workspace) -> dict[str, float]:
    """Each channel's first chat.postMessage, when the stand-in received it: one pass over
    its calls (a check of 200 channels took the stand-in's lock 200 times, each for a scan
    of every call, while the stand-in was answering the bot)."""
    first: dict[str, float] = {}
    for call in space.calls_to("chat.postMessage"):
        channel = call.response.get("channel")
        if isinstance(channel, str):
            first.setdefault(channel, call.at)
    return first


def quiet(bot: Bot, n: int) -> dict[str, list[float]]:
    """Millisecond samples: webhook answers, announcements, command acks, /healthz."""
    samples: dict[str, list[float]] = {"webhook": [], "announce": [], "ack": [], "noop": []}
    for i in range(n):
        body = am_notification(
            am_alert(fingerprint=f"{i:016x}", alertname=f"Quiet{i}"),
            group_key=f'{{}}:{{alertname="Quiet{i}"}}',
        )
        sent = time.time()
        response = bot.http.post("/webhooks/alertmanager", json=body)
        samples["webhook"].append((time.time() - sent) * 1000)
        assert response.json()["opened"], response.text
        channel_name = f"inc-{i + 1}-quiet{i}-on-search-ranker"

        def announced() -> float | None:
            channel = bot.workspace.channel_by_name(channel_name)
            return announced_at(bot.workspace, channel["id"]) if channel else None

        posted = wait_until(announced, timeout=10, what=f"the announcement in #{channel_name}")
        samples["announce"].append((posted - sent) * 1000)
    for _ in range(n):
        elapsed, status = bot.command("list")
        assert status == 200, f"/incident list answered {status}"
        samples["ack"].append(elapsed)
        start = time.perf_counter()
        bot.http.get("/healthz")
        samples["noop"].append((time.perf_counter() - start) * 1000)
    return samples


def table(samples: dict[str, list[float]], n: int) -> str:
    return "\n".join(
        [
            "| measurement | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|",
            "| webhook response (POST /webhooks/alertmanager, new group) | "
            f"{percentiles(samples['webhook'])} |",
            "| webhook sent → announcement at Slack stand-in | "
            f"{percentiles(samples['announce'])} |",
            f"| signed `/incident list` ({n} open incidents) → response | "
            f"{percentiles(samples['ack'])} |",
            f"| baseline: GET /healthz on the same server | {percentiles(samples['noop'])} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalSlackServer(workspace()) as slack,
        running_bot(Path(tmp), slack, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}") as bot,
    ):
        samples = quiet(bot, n)
    print(f"quiet system, {n} samples each, sequential, SQLite, bot in its own process\n")
    print(table(samples, n))


if __name__ == "__main__":
    main()
