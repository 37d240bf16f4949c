"""Slack away: alerts are still taken and answered, nothing said is lost, and a restart in the
middle of the outage neither loses the incident's channel nor makes a second one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import FirebreakConfig
from bot.localslack.server import LocalSlackServer
from bot.localslack.state import Workspace
from bot.slack.outbox import worker as outbox_worker
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import clean_env, running_bot

TOKEN = "xoxb-outage-1"
FOREVER = 1_000_000  # failures to hand out: Slack stays down until recover()


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_worker, "BACKOFF_MAX_S", 0.5)


def second_group() -> dict[str, object]:
    alert = am_alert(fingerprint="77aa01bb02cc03dd", alertname="FraudScoresZero")
    return am_notification(alert, group_key='{}:{alertname="FraudScoresZero"}')


def test_alerts_are_taken_while_slack_is_down_and_told_once_it_is_back(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    with running_bot(tmp_path, config) as bot:
        bot.workspace.fail("*", status=500, times=FOREVER)
        assert bot.webhook("alertmanager", am_notification()).status_code == 200
        assert bot.webhook("alertmanager", second_group()).status_code == 200
        listed = bot.http.get("/api/incidents").json()
        assert [i["id"] for i in listed] == ["INC-2", "INC-1"]  # recorded, Slack or not
        assert all(i["channel_id"] is None for i in listed)
        backlog = wait_until(
            lambda: (b := bot.http.get("/readyz").json()["slack_outbox"])["pending"] >= 2 and b,
            what="the backlog shown",
        )
        assert backlog["failed"] == 0 and backlog["oldest_seconds"] is not None
        assert bot.http.get("/readyz").status_code == 200  # degraded, still taking alerts
        wait_until(lambda: any(c.status == 500 for c in bot.workspace.calls), what="Slack refusing")

        bot.workspace.recover()
        for ref in ("INC-1", "INC-2"):
            bot.announced(ref, timeout=30)
        broadcast = bot.workspace.channel_by_name("incidents")
        assert broadcast is not None
        told = [m["text"] for m in bot.workspace.messages(broadcast["id"])]
        assert sum("INC-1" in t for t in told) == 1 and sum("INC-2" in t for t in told) == 1
        assert len([c for c in bot.workspace.channels() if c["name"].startswith("inc-")]) == 2
        wait_until(
            lambda: bot.http.get("/readyz").json()["slack_outbox"]["pending"] == 0,
            what="the backlog sent",
        )


def test_a_restart_during_an_outage_loses_nothing_and_makes_one_channel(
    tmp_path: Path, config: FirebreakConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    workspace = Workspace(tokens=[TOKEN])
    workspace.ensure_channel("incidents")
    settings = {"SLACK_BOT_TOKEN": TOKEN}
    with LocalSlackServer(workspace) as slack:
        settings["FIREBREAK_SLACK_API_URL"] = slack.base_url
        with running_bot(tmp_path, config, slack=workspace, **settings) as first:
            workspace.fail("*", status=503, times=FOREVER)
            assert first.webhook("alertmanager", am_notification()).status_code == 200
            wait_until(lambda: workspace.calls_to("conversations.create"), what="a try")
        # Stopped while conversations.create was still waiting in the outbox.
        assert workspace.channel_by_name("inc-1-rankerndcgdrop-on-search-ranker") is None

        workspace.recover()
        with running_bot(tmp_path, config, slack=workspace, **settings) as second:
            incident = second.announced("INC-1", timeout=30)
    created = [c for c in workspace.calls_to("conversations.create") if c.response.get("ok")]
    channels = [c for c in workspace.channels() if c["name"].startswith("inc-")]
    assert [c["name"] for c in channels] == ["inc-1-rankerndcgdrop-on-search-ranker"]
    assert incident["channel_id"] == channels[0]["id"]
    # The stored call made the channel; the resumed set-up found it instead of making another.
    assert len(created) == 1
    broadcast = workspace.channel_by_name("incidents")
    assert broadcast is not None
    assert sum("INC-1" in m["text"] for m in workspace.messages(broadcast["id"])) == 1
