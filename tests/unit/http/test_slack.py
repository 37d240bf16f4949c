"""Scenario tests of Slack over HTTP (bot/http/slack.py): /slack/events verified and answered,
and the Slack the app calls: the embedded stand-in, or a configured Slack API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import FirebreakConfig
from tests.payloads import am_notification
from tests.scenario import SIGNING_SECRET, Bot, clean_env, on_slack, running_bot
from tests.servers import slack_headers


@pytest.fixture
def bot(tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as running:
        yield running


def test_slash_commands_are_verified_and_answered(bot: Bot) -> None:
    help_reply = bot.command("help")
    assert help_reply.status_code == 200
    assert "/incident declare [title]" in help_reply.json()["text"]

    declared = bot.command("declare Checkout fraud scores all zero", user="U0CHO0003")
    assert declared.status_code == 200
    assert declared.json()["text"].startswith("INC-1 declared: Checkout fraud scores all zero")
    incident = bot.announced("INC-1")
    assert incident["channel_name"] == "inc-1-checkout-fraud-scores-all-zero"
    assert incident["declared_by"] == "U0CHO0003"

    listed = bot.command("list").json()
    assert "*INC-1* Checkout fraud scores all zero" in listed["text"]


def test_unsigned_or_stale_slack_requests_are_refused(bot: Bot) -> None:
    assert bot.command("declare forged", secret="not-the-secret").status_code == 401
    assert bot.command("declare replayed", timestamp=1_500_000_000).status_code == 401
    # Slack's replay window is five minutes: six minutes old is too old.
    stale = bot.command("declare stale", timestamp=int(time.time()) - 360)
    assert stale.status_code == 401 and stale.json() == {"error": "invalid request"}
    no_headers = bot.http.post(
        "/slack/events",
        content=b"command=%2Fincident&text=list",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert no_headers.status_code == 401
    body = b"command=%2Fincident&text=declare+unsigned"
    only_timestamp = slack_headers(SIGNING_SECRET, body)
    del only_timestamp["X-Slack-Signature"]
    assert bot.http.post("/slack/events", content=body, headers=only_timestamp).status_code == 401
    assert bot.http.get("/api/incidents").json() == []
    assert bot.workspace.calls_to("conversations.create") == []


def test_page_shows_the_incident_channel(bot: Bot) -> None:
    bot.webhook("alertmanager", am_notification())
    incident = bot.announced("INC-1")
    page = bot.http.get("/", params={"channel": incident["channel_id"]})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "inc-1-rankerndcgdrop-on-search-ranker" in page.text
    assert "RankerNDCGDrop on search-ranker" in page.text
    state = bot.http.get("/state.json").json()
    assert incident["channel_id"] in json.dumps(state)


def test_a_configured_slack_api_gets_every_call(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    users = ("U0ANA0001", "U0BEN0002")
    with on_slack(tmp_path, config, token="xoxb-elsewhere-1", users=users) as bot:
        workspace = bot.workspace
        assert bot.runtime.workspace is None  # no embedded stand-in when a token is set
        assert bot.http.get("/").status_code == 404
        assert bot.command("help").status_code == 200
        bot.webhook("alertmanager", am_notification())
        bot.announced("INC-1")
        methods = [call.method for call in workspace.calls]
        assert methods[0] == "auth.test"  # Bolt checks its token against the same API
        assert {"conversations.create", "conversations.invite", "chat.postMessage"} <= set(methods)
        assert {call.token for call in workspace.calls} == {"xoxb-elsewhere-1"}
