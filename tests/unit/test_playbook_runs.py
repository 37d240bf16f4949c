"""Scenario: mitigation playbooks through signed Slack requests, acting on the example model
service (the reference Deployment API) over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import FirebreakConfig, ServiceConfig
from bot.deploy.config import HttpTargetConfig
from bot.slack.blocks import actions
from tests.payloads import am_alert, am_notification
from tests.polling import wait_until
from tests.scenario import Bot, clean_env, running_bot

ANA, BEN, CAROL = "U0ANA0001", "U0BEN0002", "U0CAROL003"


@pytest.fixture
def bot(
    tmp_path: Path, config: FirebreakConfig, model_service: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bot]:
    clean_env(monkeypatch)
    config.services["search-ranker"] = ServiceConfig(
        owners=[ANA, BEN], deploy=HttpTargetConfig(kind="http", url=model_service)
    )
    config.services["checkout-fraud"] = ServiceConfig(owners=[CAROL])
    with running_bot(tmp_path, config) as running:
        yield running


def state(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/v1/services/search-ranker").json())


def run_messages(bot: Bot, channel: str) -> list[dict[str, Any]]:
    return [m for m in bot.workspace.messages(channel) if "playbook rollback" in m["text"]]


def incident_channel(bot: Bot) -> str:
    bot.webhook("alertmanager", am_notification())
    channel = str(bot.announced("INC-1")["channel_id"])
    bot.command("commander me", user=ANA, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["commander"] == ANA, what="ANA in command")
    return channel


def test_dry_run_shows_the_requests_and_changes_nothing(bot: Bot, model_service: str) -> None:
    channel = incident_channel(bot)
    assert bot.command("rollback --dry-run", user=BEN, channel=channel).status_code == 200
    [message] = wait_until(lambda: run_messages(bot, channel), what="the dry-run message")
    assert "Dry run — nothing was changed" in message["text"]
    shown = str(message["blocks"])
    assert f"POST {model_service}/v1/services/search-ranker/rollback" in shown
    # A random id per run: another database's run #1 is not a repeat of this one.
    assert re.search(r"Idempotency-Key: firebreak-[0-9a-f]{32}-main-1", shown)
    assert state(model_service)["active_version"] == "v42-bad"


def test_only_someone_with_rights_on_the_service_approves_its_rollback(
    bot: Bot, model_service: str
) -> None:
    """The issue's reproduction: a member who owns only checkout-fraud declares an incident,
    takes command, asks to roll search-ranker back and approves it herself."""
    assert bot.command("declare test", user=CAROL).status_code == 200
    channel = str(bot.announced("INC-1")["channel_id"])
    bot.command("commander me", user=CAROL, channel=channel)
    wait_until(lambda: bot.incident("INC-1")["commander"] == CAROL, what="CAROL in command")

    bot.command("rollback service=search-ranker", user=CAROL, channel=channel)
    [asked] = wait_until(lambda: run_messages(bot, channel), what="the approval request")
    assert "Awaiting approval" in asked["text"]
    approve = asked["blocks"][-1]["elements"][0]
    assert approve["action_id"] == actions.RUN_APPROVE

    bot.click(
        actions.RUN_APPROVE, approve["value"], user=CAROL, channel=channel, message_ts=asked["ts"]
    )
    refused = wait_until(lambda: bot.workspace.ephemeral(channel, CAROL), what="CAROL refused")
    assert refused[-1]["text"].startswith(
        "Only someone with rights on search-ranker may change it: <@U0ANA0001>, <@U0BEN0002>."
    )
    assert state(model_service)["active_version"] == "v42-bad"

    bot.click(
        actions.RUN_APPROVE, approve["value"], user=ANA, channel=channel, message_ts=asked["ts"]
    )
    wait_until(
        lambda: "Succeeded" in run_messages(bot, channel)[0]["text"],
        timeout=20,
        what="the run succeeded",
    )
    assert state(model_service)["active_version"] == "v41"
    steps = [t["text"] for t in bot.incident("INC-1")["timeline"] if t["kind"] == "playbook.step"]
    assert len(steps) == 4
    assert f"POST {model_service}/v1/services/search-ranker/rollback" in steps[1]
    assert " → 200 in " in steps[1] and "→ v41 (model)" in steps[1]
    texts = [m["text"] for m in bot.workspace.messages(channel)]
    assert any("rolled back from v42-bad to v41" in t for t in texts)
    assert any(t.startswith(":white_check_mark: rollback succeeded in INC-1") for t in texts)


def test_a_double_clicked_approval_runs_the_playbook_once(bot: Bot, model_service: str) -> None:
    channel = incident_channel(bot)
    resolved = am_notification(am_alert(status="resolved", ends_at="2026-11-27T03:30:00Z"))
    bot.webhook("alertmanager", resolved)
    bot.command("rollback", user=ANA, channel=channel)
    [asked] = wait_until(lambda: run_messages(bot, channel), what="the approval request")
    approve = asked["blocks"][-1]["elements"][0]["value"]

    def click(_: int) -> int:
        return bot.click(
            actions.RUN_APPROVE, approve, user=ANA, channel=channel, message_ts=asked["ts"]
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:  # both clicks in flight at once
        assert list(pool.map(click, range(2))) == [200, 200]
    wait_until(
        lambda: "Succeeded" in run_messages(bot, channel)[0]["text"],
        timeout=20,
        what="the run succeeded",
    )
    wait_until(lambda: bot.workspace.ephemeral(channel, ANA), what="the second click answered")
    assert "not awaiting approval" in bot.workspace.ephemeral(channel, ANA)[-1]["text"]
    timeline = bot.incident("INC-1")["timeline"]
    assert len([t for t in timeline if t["kind"] == "playbook.step"]) == 4  # not 8
    assert len([t for t in timeline if "approved rollback" in t["text"]]) == 1
    assert state(model_service)["active_version"] == "v41"
