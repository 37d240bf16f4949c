"""The bot's Slack clients while it serves: one kept-alive connection pool, not a connection
per call (a TLS handshake each, against Slack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import FirebreakConfig
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
