"""The bot's Slack clients while it serves: one kept-alive connection pool, not a connection
per call (a TLS handshake each, against Slack)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import FirebreakConfig
from bot.slack.metered import keep_alive
from tests.payloads import am_notification
from tests.scenario import clean_env, running_bot

WRITES = {
    "conversations.create",
    "conversations.invite",
    "conversations.setTopic",
    "chat.postMessage",
    "chat.update",
    "pins.add",
}


def test_calls_to_slack_share_kept_alive_connections(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as bot:
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        bot.announced("INC-1")
        calls = [c for c in bot.workspace.calls if c.method in WRITES]
        # Channel, invites, topic, announcements, pins…: each call on a connection of its own
        # before; now they come over a few (the outbox sends calls of two queues at once).
        assert len(calls) >= 5
        peers = {c.peer for c in calls}
        assert None not in peers and len(peers) < len(calls) - 2, (len(peers), len(calls))


async def test_a_connection_not_made_in_time_is_given_up_before_the_calls_timeout() -> None:
    """A listening socket whose backlog is full drops new connections' SYNs: the connect
    hangs, as the stalled lookups did in storms. The pool gives it up at `connect`, not at
    the call's whole timeout."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    host, port = server.getsockname()
    queued = []  # never accepted: they fill the backlog
    for _ in range(4):
        waiting = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        waiting.setblocking(False)
        waiting.connect_ex((host, port))
        queued.append(waiting)
    client = AsyncWebClient(token="xoxb-test", base_url=f"http://{host}:{port}/")
    pool = keep_alive([client], timeout=10, connect=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            await client.api_test()
    finally:
        await pool.close()
        for s in [*queued, server]:
            s.close()
    assert time.monotonic() - started < 5
