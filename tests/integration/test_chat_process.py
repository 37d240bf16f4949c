"""`firebreak serve` on PostgreSQL runs the chat follow-ups in a process of its own
(bot.followups.away): alerts are announced through it; killed, it is started again and
finishes what it missed; and it goes when the serving process goes, however that dies."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.localslack.server import LocalSlackServer
from tests.integration.test_replicas import API, alert, prepared, replica
from tests.polling import wait_until
from tests.servers import tls


def chat_process_of(pid: int) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if parent == pid and b"chat-process" in command:
            return int(stat.parent.name)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def readiness(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/readyz", headers=API, timeout=5, verify=tls()).json())


def shown(url: str, series: str) -> float | None:
    """A series' value on serve's /metrics (`series`: its name and labels as written there)."""
    exposition = httpx.get(f"{url}/metrics", headers=API, timeout=5, verify=tls()).text
    found = re.search(rf"^{re.escape(series)} (\S+)$", exposition, re.M)
    return float(found[1]) if found else None


def channels_made(url: str) -> float:
    return shown(url, 'firebreak_slack_api_calls_total{method="conversations.create"}') or 0.0


def chat_started(url: str) -> float | None:
    """When the chat process now running started, as serve's /metrics shows it."""
    return shown(url, "firebreak_chat_process_start_time_seconds")


def started_at(pid: int) -> float:
    """When a process started, in Unix seconds, as /proc says (boot time plus its start)."""
    booted = next(
        int(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])
    return booted + ticks / os.sysconf("SC_CLK_TCK")


def test_the_chat_process_announces_is_restarted_and_goes_with_serve(
    tmp_path: Path, postgres: str
) -> None:
    database_url, workspace = prepared(tmp_path, postgres, "chat_process")

    def announced() -> set[str]:
        return {
            c["name"]
            for c in workspace.channels()
            if c["name"].startswith("inc-")
            and any("Replica" in m["text"] for m in workspace.messages(c["id"]))
        }

    with LocalSlackServer(workspace) as slack, replica(tmp_path, database_url, slack, "one") as bot:

        def sent(group: int) -> None:
            answer = alert(bot.url, group)
            assert answer.status_code == 200, answer.text

        first = wait_until(lambda: chat_process_of(bot.pid), what="the chat process started")
        wait_until(
            lambda: readiness(bot.url)["chat_process"]["running"],
            timeout=30,
            what="the chat process ready",
        )
        sent(0)
        wait_until(lambda: len(announced()) == 1, timeout=30, what="announced by the chat process")
        # Only the chat process makes channels: its Slack calls are on serve's /metrics (handed
        # over every 0.1 s: what a killed one counted since is lost, so this waits first).
        wait_until(lambda: channels_made(bot.url) == 1, what="its count on serve's /metrics")
        # Its own start, to the clock tick (serve's is seconds earlier).
        assert chat_started(bot.url) == pytest.approx(started_at(first), abs=0.001)

        os.kill(first, signal.SIGKILL)
        sent(1)  # while it is down or being replaced: its set-up is resumed by the next one
        second = wait_until(
            lambda: (pid := chat_process_of(bot.pid)) != first and pid,
            timeout=30,
            what="another chat process",
        )
        wait_until(lambda: len(announced()) == 2, timeout=30, what="the missed set-up resumed")
        assert chat_started(bot.url) == pytest.approx(started_at(second), abs=0.001)  # now running
        sent(2)
        wait_until(lambda: len(announced()) == 3, timeout=30, what="announced by the new one")
        wait_until(
            lambda: readiness(bot.url)["chat_process"] == {"running": True, "pending": 0},
            timeout=30,
            what="the chat process idle",
        )
        assert len(workspace.channels()) == 4  # three incidents and the broadcast channel
        wait_until(lambda: channels_made(bot.url) == 3, what="all counted on serve's /metrics")

        os.kill(bot.pid, signal.SIGKILL)  # no lifespan, no goodbye: its pipe closes
        wait_until(lambda: not alive(second), timeout=30, what="the chat process gone with serve")
